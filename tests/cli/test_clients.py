"""``tokenpath client add | list | update``: registration, listings without secrets, policy."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.cli.conftest import run


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
