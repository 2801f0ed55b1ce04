"""``tokenpath client add | list | update``: registration, listings without secrets, policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from joserfc.jwk import ECKey

from tests.cli.conftest import run

API = "https://api.example"


def add_notes_api(runner: CliRunner) -> None:
    code, out = run(runner, "api", "add", API, "--scope", "notes:read=Read your notes", "--json")
    assert code == 0, out


def test_client_add_json_shape_and_list(runner: CliRunner, env: dict[str, str]) -> None:
    add_notes_api(runner)
    code, out = run(
        runner, "client", "add", "--name", "Web app", "--type", "confidential",
        "--redirect-uri", "https://app.example/cb", "--redirect-uri", "https://app.example/cb2",
        "--scope", "openid notes:read", "--resource", API, "--json",
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
    assert web["resources"] == [API] and web["default_resource"] is None
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
    assert code == 2 and "scopes must be OpenID scopes or scopes of the client's APIs: admin" in out


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


KEY = ECKey.generate_key("P-256", private=True, auto_kid=True)


def jwks_file(
    tmp_path: Path, *, private: bool = False, text: str | None = None, name: str = ""
) -> str:
    path = tmp_path / (name or ("private.json" if private else "jwks.json"))
    keys = {"keys": [dict(KEY.as_dict(private=private))]}
    path.write_text(text if text is not None else json.dumps(keys), encoding="utf-8")
    return str(path)


def machine_add(runner: CliRunner, *options: str) -> tuple[int, str]:
    add_notes_api(runner)
    return run(
        runner, "client", "add", "--name", "Machine", "--scope", "notes:read",
        "--grant-type", "client_credentials", "--resource", API, *options,
    )  # fmt: skip


def test_private_key_jwt_client_from_a_jwks_file(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    path = jwks_file(tmp_path)
    code, out = machine_add(
        runner, "--type", "confidential", "--auth-method", "private_key_jwt",
        "--jwks-file", path, "--json",
    )  # fmt: skip
    assert code == 0, out
    added = json.loads(out)
    assert set(added) == {"client_id", "client_secret"} and added["client_secret"] is None
    (listed,) = json.loads(run(runner, "client", "list", "--json")[1])
    assert listed["client_id"] == added["client_id"]
    assert listed["token_endpoint_auth_method"] == "private_key_jwt"
    assert listed["jwks"] == {"keys": [KEY.as_dict(private=False)]}
    assert listed["jwks_uri"] is None
    code, out = run(runner, "client", "list")
    assert code == 0 and "auth          private_key_jwt" in out


def test_a_jwks_uri_implies_private_key_jwt_and_confidential(
    runner: CliRunner, env: dict[str, str]
) -> None:
    uri = "https://machine.example/jwks.json"
    code, out = machine_add(runner, "--jwks-uri", uri, "--json")
    assert code == 0, out
    assert json.loads(out)["client_secret"] is None
    (listed,) = json.loads(run(runner, "client", "list", "--json")[1])
    assert listed["client_type"] == "confidential"
    assert listed["token_endpoint_auth_method"] == "private_key_jwt"
    assert (listed["jwks"], listed["jwks_uri"]) == (None, uri)
    code, out = run(runner, "client", "add", "--name", "x", "--scope", "openid")
    assert code == 2 and "--type" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--jwks-file", "PRIVATE"), "public keys only"),
        (("--jwks-file", "GARBAGE"), "not a JSON JWK Set"),
        (("--jwks-file", "EMPTY-SET"), "of public keys"),
        (("--jwks-file", "PUBLIC", "--jwks-uri", "https://m.example/k"), "not both"),
        (("--jwks-uri", "http://m.example/k"), "jwks_uri must use https"),
        (("--jwks-uri", "https://m.example/k#x"), "fragment"),
        (("--auth-method", "private_key_jwt"), "needs the client's jwks or jwks_uri"),
        (("--auth-method", "client_secret_basic", "--jwks-uri", "https://m.example/k"), "only"),
    ],
)
def test_bad_key_options_exit_2_with_a_message(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    files = {
        "PRIVATE": jwks_file(tmp_path, private=True),
        "GARBAGE": jwks_file(tmp_path, text="-----BEGIN PRIVATE KEY-----", name="key.pem"),
        "EMPTY-SET": jwks_file(tmp_path, text='{"keys": []}', name="empty.json"),
        "PUBLIC": jwks_file(tmp_path),
    }
    code, out = machine_add(runner, *(files.get(o, o) for o in options))
    assert code == 2 and message in out, out
    assert run(runner, "client", "list", "--json")[1].strip() == "[]"


def test_update_swaps_the_key_source(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    code, out = machine_add(runner, "--jwks-file", jwks_file(tmp_path), "--json")
    client_id = json.loads(out)["client_id"]
    uri = "https://machine.example/jwks.json"
    code, out = run(runner, "client", "update", client_id, "--jwks-uri", uri)
    assert code == 0, out
    assert (json.loads(out)["jwks"], json.loads(out)["jwks_uri"]) == (None, uri)
    code, out = run(runner, "client", "update", client_id, "--name", "Renamed")
    assert json.loads(out)["jwks_uri"] == uri, "kept when not given"
    code, out = run(runner, "client", "update", client_id, "--jwks-file", jwks_file(tmp_path))
    assert json.loads(out)["jwks"] == {"keys": [KEY.as_dict(private=False)]}
    assert json.loads(out)["jwks_uri"] is None
    private = jwks_file(tmp_path, private=True)
    code, out = run(runner, "client", "update", client_id, "--jwks-file", private)
    assert code == 2 and "public keys only" in out


def test_add_with_logout_uris_and_pairwise_subjects(
    runner: CliRunner, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENPATH_PAIRWISE_SALT", "s" * 32)
    code, out = run(
        runner, "client", "add", "--name", "RP", "--type", "confidential",
        "--redirect-uri", "https://rp.example/cb", "--scope", "openid",
        "--post-logout-redirect-uri", "https://rp.example/bye",
        "--backchannel-logout-uri", "https://rp.example/backchannel",
        "--subject-type", "pairwise", "--json",
    )  # fmt: skip
    assert code == 0, out
    client_id = json.loads(out)["client_id"]
    code, out = run(runner, "client", "list", "--json")
    (listed,) = [c for c in json.loads(out) if c["client_id"] == client_id]
    assert listed["post_logout_redirect_uris"] == ["https://rp.example/bye"]
    assert listed["backchannel_logout_uri"] == "https://rp.example/backchannel"
    assert listed["subject_type"] == "pairwise" and listed["dynamic"] is False
    code, out = run(
        runner, "client", "add", "--name", "RP2", "--type", "confidential",
        "--redirect-uri", "https://rp.example/cb", "--scope", "openid",
        "--post-logout-redirect-uri", "https://rp.example/bye#frag",
    )  # fmt: skip
    assert code == 2


def test_require_pushed_authorization_requests_on_add_and_update(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(
        runner, "client", "add", "--name", "Bank", "--type", "confidential",
        "--redirect-uri", "https://bank.example/cb", "--scope", "openid",
        "--require-pushed-authorization-requests", "--json",
    )  # fmt: skip
    assert code == 0, out
    client_id = json.loads(out)["client_id"]
    listed = json.loads(run(runner, "client", "list", "--json")[1])
    assert listed[0]["require_pushed_authorization_requests"] is True
    code, out = run(
        runner, "client", "update", client_id, "--no-require-pushed-authorization-requests"
    )
    assert code == 0 and json.loads(out)["require_pushed_authorization_requests"] is False
    code, out = run(runner, "client", "update", client_id, "--name", "Bank 2")
    assert code == 0 and json.loads(out)["require_pushed_authorization_requests"] is False
    code, out = run(
        runner, "client", "update", client_id, "--require-pushed-authorization-requests"
    )
    assert code == 0 and json.loads(out)["require_pushed_authorization_requests"] is True
