"""The command line, through click's runner and once through the installed entry point."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import anyio
import httpx
import pytest
from click.testing import CliRunner

from tests.support.servers import free_port
from tests.web.conftest import forms
from tokenpath.cli import main, opened
from tokenpath.demo import DEMO_PASSWORD, DEMO_USERNAME, ensure_demo_data
from tokenpath.settings import Settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name in list(os.environ):
        if name.startswith("TOKENPATH_"):
            monkeypatch.delenv(name)
    values = {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    yield values


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_db_upgrade_creates_the_data_dir_and_is_idempotent(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(runner, "db", "upgrade")
    assert code == 0, out
    assert (Path(env["TOKENPATH_DATA_DIR"]) / "tokenpath.db").is_file()
    assert run(runner, "db", "upgrade")[0] == 0


def test_user_add_from_stdin_then_duplicate_is_refused(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(runner, "user", "add", "alice", "--password-stdin", input="correct horse\n")
    assert code == 0 and "created user alice" in out
    assert "correct horse" not in out
    code, out = run(runner, "user", "add", "alice", "--password-stdin", input="correct horse\n")
    assert code == 2 and "already exists" in out


def test_user_add_prompts_twice(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(runner, "user", "add", "bob", input="long password\nlong password\n")
    assert code == 0, out
    assert out.count("Password") == 1 and "Repeat for confirmation" in out
    code, out = run(runner, "user", "add", "carol", "--password-stdin", input="short\n")
    assert code == 2 and "at least 8" in out


def test_client_add_json_shape_and_list(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(
        runner, "client", "add", "--name", "Web app", "--type", "confidential",
        "--redirect-uri", "https://app.example/cb", "--redirect-uri", "https://app.example/cb2",
        "--scope", "openid notes:read", "--json",
    )  # fmt: skip
    assert code == 0, out
    confidential = json.loads(out)
    assert set(confidential) == {"client_id", "client_secret"}
    assert len(confidential["client_secret"]) >= 43
    code, out = run(
        runner, "client", "add", "--name", "CLI", "--type", "public",
        "--redirect-uri", "http://127.0.0.1/callback", "--scope", "openid", "--json",
    )  # fmt: skip
    public = json.loads(out)
    assert public["client_secret"] is None

    code, out = run(runner, "client", "list", "--json")
    listed = {c["client_id"]: c for c in json.loads(out)}
    assert set(listed) == {confidential["client_id"], public["client_id"]}
    web = listed[confidential["client_id"]]
    assert web["redirect_uris"] == ["https://app.example/cb", "https://app.example/cb2"]
    assert web["scope"] == "openid notes:read" and web["client_type"] == "confidential"
    assert confidential["client_secret"] not in out  # only the hash is stored

    code, out = run(runner, "client", "list")
    assert code == 0 and "Web app" in out and "https://app.example/cb2" in out


def test_client_add_text_output_shows_the_secret_once(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(
        runner, "client", "add", "--name", "W", "--type", "confidential",
        "--redirect-uri", "https://app.example/cb", "--scope", "openid",
    )  # fmt: skip
    assert code == 0 and "client_id:" in out and "client_secret:" in out


@pytest.mark.parametrize(
    "uri",
    ["http://app.example/cb", "https://app.example/cb#frag", "https://*.example/cb", "cb"],
)
def test_invalid_redirect_uri_exits_2_with_a_message(
    runner: CliRunner, env: dict[str, str], uri: str
) -> None:
    code, out = run(
        runner, "client", "add", "--name", "Bad", "--type", "confidential",
        "--redirect-uri", uri, "--scope", "openid",
    )  # fmt: skip
    assert code == 2
    assert "--redirect-uri" in out
    assert run(runner, "client", "list", "--json")[1].strip() == "[]"


def test_unknown_scope_exits_2(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(
        runner, "client", "add", "--name", "Bad", "--type", "public",
        "--redirect-uri", "http://127.0.0.1/cb", "--scope", "admin",
    )  # fmt: skip
    assert code == 2 and "scopes must be among" in out


def test_insecure_configuration_exits_2(
    runner: CliRunner, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENPATH_ISSUER", "http://as.example")
    code, out = run(runner, "db", "upgrade")
    assert code == 2 and "non-loopback" in out
    monkeypatch.setenv("TOKENPATH_ISSUER", "http://127.0.0.1:9000")
    code, out = run(runner, "serve", "--host", "0.0.0.0")
    assert code == 2 and "refusing to bind" in out


def test_demo_data_is_created_once_and_the_secret_persisted(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    settings = Settings(data_dir=data_dir)
    from tokenpath.cli import migrate

    migrate(settings)
    redirect = "http://127.0.0.1:9002/callback"

    async def twice() -> tuple[tuple[str, str], tuple[str, str], bool]:
        async with opened(settings) as ctx:
            first = await ensure_demo_data(ctx, data_dir, redirect)
            second = await ensure_demo_data(ctx, data_dir, redirect)
            user = await ctx.stores.users.get_by_username(DEMO_USERNAME)
            assert user is not None
            ok = await ctx.passwords.verify(user.password_hash, DEMO_PASSWORD)
            return first, second, ok

    first, second, password_ok = anyio.run(twice)
    assert first == second and password_ok
    saved = data_dir / "demo-client.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"client_id": first[0], "client_secret": first[1]}


def test_installed_entry_point_and_python_m(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    env["TOKENPATH_DATA_DIR"] = str(tmp_path / "data")
    script = Path(sys.executable).parent / "tokenpath"
    done = subprocess.run(
        [str(script), "client", "add", "--name", "X", "--type", "public",
         "--redirect-uri", "http://127.0.0.1/cb", "--scope", "openid", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    client_id = json.loads(done.stdout)["client_id"]
    listed = subprocess.run(
        [sys.executable, "-m", "tokenpath", "client", "list", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [c["client_id"] for c in json.loads(listed.stdout)] == [client_id]


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            pytest.fail(f"demo exited early: {process.communicate()[0]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"{url} did not come up")


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


def test_demo_runs_four_servers_signs_in_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("as", "api", "app", "spa")}
    command = [
        sys.executable, "-m", "tokenpath", "demo", "--data-dir", str(tmp_path / "demo"),
        "--as-port", str(ports["as"]), "--api-port", str(ports["api"]),
        "--app-port", str(ports["app"]), "--spa-port", str(ports["spa"]),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    client_ids = []
    for _ in range(2):  # the second start reuses the user, the client and its secret
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            for port in ports.values():
                _wait_for(f"http://127.0.0.1:{port}/", process)
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
        assert output.count("Application shutdown complete") == 4
        assert "implicit grant is ON in this demo" in output and "allow_implicit is on" in output
        assert "tokenpath login --issuer" in output
    assert client_ids[0] == client_ids[1]


def test_client_policy_add_and_update(runner: CliRunner, env: dict[str, str]) -> None:
    """Issue: a provider restricts a client to the code flow and refuses implicit."""
    code, out = run(
        runner, "client", "add", "--name", "SPA", "--type", "public",
        "--redirect-uri", "https://spa.example/", "--scope", "openid",
        "--grant-type", "authorization_code", "--grant-type", "implicit",
        "--response-type", "code", "--response-type", "token", "--json",
    )  # fmt: skip
    assert code == 0, out
    client_id = json.loads(out)["client_id"]
    code, out = run(runner, "client", "update", client_id, "--grant-type", "authorization_code")
    assert code == 0, out
    updated = json.loads(out)
    assert updated["response_types"] == ["code"]
    assert updated["grant_types"] == ["authorization_code"]
    listed = json.loads(run(runner, "client", "list", "--json")[1])
    assert listed[0]["response_types"] == ["code"]
    code, out = run(runner, "client", "update", client_id, "--response-type", "token")
    assert code == 2 and "implicit" in out
    code, out = run(runner, "client", "update", "no-such-client", "--name", "x")
    assert code == 2
    code, out = run(
        runner, "client", "add", "--name", "Web", "--type", "confidential",
        "--redirect-uri", "https://app.example/cb", "--scope", "openid", "--grant-type", "implicit",
    )  # fmt: skip
    assert code == 2 and "public" in out


def test_keys_rotate_and_list(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(runner, "keys", "list")
    assert code == 0 and out.count("ES256") == 1 and "signing" in out
    first_kid = out.split()[0]
    code, out = run(runner, "keys", "rotate")
    assert code == 0 and "new signing key" in out
    new_kid = out.split()[3].rstrip(";")
    code, out = run(runner, "keys", "list")
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [new_kid, first_kid]
    assert "retiring" in lines[1]


def test_db_cleanup(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(runner, "db", "cleanup", "--grace", "0")
    assert code == 0 and "codes: 0" in out and "deleted" in out


def test_serve_allow_implicit_flag_reaches_discovery(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    env |= {"TOKENPATH_DATA_DIR": str(tmp_path), "TOKENPATH_ISSUER": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "serve", "--port", str(port), "--allow-implicit"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/", process)
        meta = httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server").json()
        assert meta["response_types_supported"] == ["code", "token"]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "allow_implicit is on" in output


def test_every_command_is_documented() -> None:
    """docs/reference/cli.md stays true: every command and subcommand has a row."""
    import click as click_module

    reference = (Path(__file__).parents[1] / "docs" / "reference" / "cli.md").read_text()
    names = []
    for name, command in main.commands.items():
        if isinstance(command, click_module.Group):
            names += [f"tokenpath {name} {sub}" for sub in command.commands]
        else:
            names.append(f"tokenpath {name}")
    assert [n for n in names if f"`{n}" not in reference] == []
