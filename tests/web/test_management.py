"""The management listener over real ``tokenpath serve`` processes: health, readiness, metrics."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import clean_environ, wait_for
from tests.conftest import _pg
from tests.support.servers import free_port


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[str, str, list[str]]]:
    """``tokenpath serve`` with a management port; yields (public URL, management URL, output
    lines, filled in when the server has stopped)."""
    port, management = free_port(), free_port()
    env = clean_environ() | {
        "TOKENPATH_ISSUER": f"http://127.0.0.1:{port}",
        "TOKENPATH_PORT": str(port),
        "TOKENPATH_MANAGEMENT_PORT": str(management),
        "TOKENPATH_PASSWORD_HASH_THREADS": "1",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "serve", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        wait_for(f"http://127.0.0.1:{port}/", process)
        wait_for(f"http://127.0.0.1:{management}/healthz", process)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{management}", lines
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        lines.extend(output.splitlines())


def _tokenpath(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        env=clean_environ() | env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


NOTES = "http://127.0.0.1:9001"


def _client(env: dict[str, str]) -> tuple[str, str]:
    """A machine client allowed on a registered notes API, in a database made for it."""
    _tokenpath(env, "db", "upgrade")  # only db upgrade (and serve) creates the database
    _tokenpath(env, "api", "add", NOTES, "--scope", "notes:read=Read your notes", "--json")
    args = ["client", "add", "--name", "M", "--type", "confidential", "--redirect-uri",
            "http://127.0.0.1/cb", "--scope", "notes:read", "--grant-type", "client_credentials",
            "--resource", NOTES, "--json"]  # fmt: skip
    created = json.loads(_tokenpath(env, *args))
    return created["client_id"], created["client_secret"]


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_health_readiness_and_metrics_of_one_process(tmp_path: Path) -> None:
    env = {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}
    client_id, secret = _client(env)
    with serving(env) as (public, manage, _):
        assert httpx.get(f"{manage}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{manage}/readyz").json() == {"status": "ready"}
        assert httpx.get(f"{public}/healthz").status_code == 404  # never on the public port
        issued = httpx.post(
            f"{public}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        assert issued.status_code == 200
        refused = httpx.post(
            f"{public}/token", data={"grant_type": "client_credentials"}, auth=(client_id, "no")
        )
        assert refused.json()["error"] == "invalid_client"
        httpx.get(f"{public}/register/some-client-id")
        scrape = httpx.get(f"{manage}/metrics")
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    requests = "tokenpath_http_requests_total"
    assert _sample(text, requests, endpoint="/token", method="POST", status="200") == 1
    assert _sample(text, requests, endpoint="/token", method="POST", status="401") == 1
    assert _sample(text, requests, endpoint="/register/{client_id}", method="GET") == 1
    assert "some-client-id" not in text  # route templates, never raw paths
    assert _sample(text, "tokenpath_grants_issued_total", grant_type="client_credentials") == 1
    assert _sample(text, "tokenpath_oauth_errors_total", error="invalid_client") >= 1
    assert (
        _sample(
            text, "tokenpath_security_events_total", event="client_auth.failed", outcome="refused"
        )
        == 1
    )
    assert "tokenpath_http_request_duration_seconds_bucket" in text
    assert _sample(text, "tokenpath_signing_key_age_seconds", role="signing") >= 0
    assert 'tokenpath_signing_key_age_seconds{kid="' in text


def test_the_admin_api_is_served_under_admin_on_the_management_listener(tmp_path: Path) -> None:
    env = {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}
    client_id, _ = _client(env)
    token = json.loads(_tokenpath(env, "admin", "token", "create", "--json"))["token"]
    with serving(env) as (public, manage, _):
        document = httpx.get(f"{manage}/admin/openapi.json")
        listed = httpx.get(f"{manage}/admin/clients", headers={"Authorization": f"Bearer {token}"})
        anonymous = httpx.get(f"{manage}/admin/clients")
        on_public = httpx.get(
            f"{public}/admin/clients", headers={"Authorization": f"Bearer {token}"}
        )
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.")
    assert listed.status_code == 200
    assert client_id in json.dumps(listed.json())
    assert anonymous.status_code == 401
    assert on_public.status_code == 404  # never on the public port


def test_workers_figures_are_added_up(tmp_path: Path) -> None:
    env = {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}
    with serving(env, "--workers", "2") as (public, manage, _):
        for _ in range(12):  # new connections: the kernel spreads them over both workers
            with httpx.Client() as http:
                assert http.get(f"{public}/jwks").status_code == 200
        text = httpx.get(f"{manage}/metrics").text
        assert httpx.get(f"{manage}/readyz").status_code == 200
    jwks = _sample(text, "tokenpath_http_requests_total", endpoint="/jwks", status="200")
    assert jwks == 12


def test_readyz_is_503_when_migrations_are_behind(tmp_path: Path) -> None:
    env = {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}
    with serving(env) as (_, manage, _):
        assert httpx.get(f"{manage}/readyz").status_code == 200
        with sqlite3.connect(tmp_path / "data" / "tokenpath.db") as db:
            db.execute("UPDATE alembic_version SET version_num = '0001'")
        answer = httpx.get(f"{manage}/readyz")
        assert httpx.get(f"{manage}/healthz").status_code == 200  # alive, just not ready
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["reason"].startswith("migrations behind: the database is at 0001")
    assert "tokenpath db upgrade" in body["reason"]


@pytest.mark.postgres
def test_readyz_is_503_when_the_database_is_gone(postgres_url: str) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    with serving({"TOKENPATH_DATABASE_URL": postgres_url}) as (_public, manage, _):
        assert httpx.get(f"{manage}/readyz").status_code == 200
        _pg(f'DROP DATABASE "{name}" WITH (FORCE)')
        answer = httpx.get(f"{manage}/readyz", timeout=30)
    assert answer.status_code == 503
    assert answer.json()["reason"].startswith("database unreachable")


def test_the_management_port_may_not_be_the_public_port(tmp_path: Path) -> None:
    port = str(free_port())
    env = clean_environ() | {"TOKENPATH_DATA_DIR": str(tmp_path), "TOKENPATH_PORT": port}
    done = subprocess.run(
        [sys.executable, "-m", "tokenpath", "serve", "--management-port", port],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"TOKENPATH_MANAGEMENT_PORT={port} is the public port" in done.stderr
    assert "Traceback" not in done.stderr
