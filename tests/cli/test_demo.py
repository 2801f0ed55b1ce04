"""``tokenpath demo`` as a real process: its servers, a sign-in, Ctrl-C, and a restart."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.cli.conftest import clean_environ, wait_for
from tests.support.servers import free_port
from tests.web.conftest import forms
from tokenpath.demo import DEMO_PASSWORD, DEMO_USERNAME


def _sign_in_through_the_webapp(ports: dict[str, int]) -> str:
    """Drive the demo like a browser: web app → AS login → consent → callback → web app."""
    app, authz = f"http://127.0.0.1:{ports['app']}", f"http://127.0.0.1:{ports['as']}"
    with httpx.Client(timeout=10) as http:
        to_as = http.get(f"{app}/login")
        assert to_as.status_code in (302, 303)
        login = forms(http.get(to_as.headers["location"]).text)[0]
        data = {**dict(login.fields), "username": DEMO_USERNAME, "password": DEMO_PASSWORD}
        signed_in = http.post(f"{authz}/login", data=data)
        assert signed_in.status_code == 303
        approved = http.get(authz + signed_in.headers["location"])
        if approved.status_code == 200:  # first run: consent; later runs remember it (302)
            approved = http.post(
                f"{authz}/consent",
                content=urlencode([*forms(approved.text)[0].fields, ("decision", "approve")]),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        assert approved.headers["location"].startswith(f"{app}/callback?code=")
        home = http.get(approved.headers["location"], follow_redirects=True)
        assert home.status_code == 200
        return home.text


def test_demo_runs_its_servers_signs_in_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("as", "api", "app", "spa", "lab")}
    command = [
        sys.executable, "-m", "tokenpath", "demo", "--data-dir", str(tmp_path / "demo"),
        "--as-port", str(ports["as"]), "--api-port", str(ports["api"]),
        "--app-port", str(ports["app"]), "--spa-port", str(ports["spa"]),
        "--lab-port", str(ports["lab"]), "--attacker-port", str(free_port()),
    ]  # fmt: skip
    # the four demo servers and the flow lab, and the lab's attacker origin when it is installed
    servers = 6 if importlib.util.find_spec("tokenpath.lab.attacks") else 5
    env = clean_environ()
    client_ids = []
    for _ in range(2):  # the second start reuses the user, the client and its secret
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            for port in ports.values():
                wait_for(f"http://127.0.0.1:{port}/", process)
            page = _sign_in_through_the_webapp(ports)
            assert "notes:write" in page
            saved = json.loads((tmp_path / "demo" / "demo-client.json").read_text())
            client_ids.append(saved["client_id"])
            assert saved["client_secret"] not in page
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert f"http://127.0.0.1:{ports['app']}" in output and "alice / wonderland" in output
        assert output.count("Application shutdown complete") == servers
        assert f"flow lab              http://127.0.0.1:{ports['lab']}" in output
        assert "implicit grant is ON in this demo" in output and "allow_implicit is on" in output
        assert "tokenpath login --issuer" in output
    assert client_ids[0] == client_ids[1]
