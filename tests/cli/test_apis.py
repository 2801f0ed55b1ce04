"""``tokenpath api add | list | show | update | delete`` and clients allowed on APIs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.cli.conftest import run

pytestmark = pytest.mark.usefixtures("env")
NOTES = "https://notes.example"
BILLING = "https://billing.example/v1"


def add(runner: CliRunner, identifier: str, *options: str) -> dict[str, str]:
    code, out = run(runner, "api", "add", identifier, *options, "--json")
    assert code == 0, out
    added: dict[str, str] = json.loads(out)
    return added


def test_add_prints_the_identifier_and_credentials_once(runner: CliRunner) -> None:
    added = add(
        runner, NOTES, "--scope", "notes:read=Read your notes",
        "--scope", "notes:write=Create, change and delete your notes",
        "--token-format", "opaque", "--access-token-lifetime", "300", "--claim", "tenant=acme",
        "--claim", 'level=3',
    )  # fmt: skip
    assert set(added) == {"identifier", "client_id", "client_secret"}
    assert added["identifier"] == NOTES and len(added["client_secret"]) >= 43
    code, out = run(runner, "api", "show", NOTES, "--json")
    shown = json.loads(out)
    assert code == 0 and added["client_secret"] not in out
    assert shown == {
        "identifier": NOTES,
        "scopes": [
            {"name": "notes:read", "description": "Read your notes"},
            {"name": "notes:write", "description": "Create, change and delete your notes"},
        ],
        "token_format": "opaque",
        "access_token_lifetime": 300,
        "claims": {"level": 3, "tenant": "acme"},
        "client_id": added["client_id"],
    }
    code, out = run(runner, "api", "list")
    assert code == 0 and NOTES in out and "Read your notes" in out
    code, out = run(runner, "client", "list", "--json")
    assert json.loads(out) == []  # an API's credentials are not a client of its own


def test_update_and_delete(runner: CliRunner) -> None:
    add(runner, NOTES, "--scope", "notes:read=Read your notes")
    code, out = run(
        runner, "api", "update", NOTES, "--scope", "notes:read=Read notes",
        "--scope", "notes:share=Share notes", "--token-format", "opaque", "--json",
    )  # fmt: skip
    assert code == 0, out
    updated = json.loads(out)
    assert [s["name"] for s in updated["scopes"]] == ["notes:read", "notes:share"]
    assert updated["token_format"] == "opaque"
    code, out = run(runner, "api", "delete", NOTES, "--json")
    assert code == 0 and json.loads(out) == {"identifier": NOTES, "deleted": True}
    code, out = run(runner, "api", "list", "--json")
    assert json.loads(out) == []
    code, out = run(runner, "api", "delete", NOTES)
    assert code == 2 and "no API" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("notes.example", "--scope", "a=b"), "absolute URI"),
        (("https://notes.example/#top", "--scope", "a=b"), "fragment"),
        (("https://notes.example/#top", "--scope", "a=b"), "(RFC 8707 §2)"),  # not "?2"
        (("http://notes.example", "--scope", "a=b"), "https"),
        ((NOTES, "--scope", "no description"), "NAME=Description"),
        ((NOTES, "--scope", "two words=x"), "scope name"),
        ((NOTES, "--scope", "two words=x"), "(RFC 6749 §3.3)"),
        ((NOTES, "--scope", "ctl\x07=x"), "scope name"),
        ((NOTES, "--scope", "a=" + "x" * 301), "1-300"),
        ((NOTES, "--scope", "a=b", "--claim", "iss=me"), "reserved"),
        ((NOTES, "--scope", "a=b", "--access-token-lifetime", "0"), "0"),
        ((NOTES,), "--scope"),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(
    runner: CliRunner, args: tuple[str, ...], message: str
) -> None:
    code, out = run(runner, "api", "add", *args)
    assert code == 2 and message in out, out
    code, out = run(runner, "api", "list", "--json")
    assert json.loads(out) == []


def test_a_scope_name_belongs_to_one_api(runner: CliRunner) -> None:
    add(runner, NOTES, "--scope", "read=Read")
    code, out = run(runner, "api", "add", BILLING, "--scope", "read=Read invoices")
    assert code == 2 and "already defined by the API https://notes.example" in out


def test_clients_are_allowed_on_apis(runner: CliRunner) -> None:
    add(runner, NOTES, "--scope", "notes:read=Read your notes")
    add(runner, BILLING, "--scope", "billing:read=Read your invoices")
    code, out = run(
        runner, "client", "add", "--name", "Both", "--type", "confidential",
        "--redirect-uri", "https://app.example/cb", "--scope", "openid notes:read billing:read",
        "--resource", NOTES, "--resource", BILLING, "--default-resource", BILLING, "--json",
    )  # fmt: skip
    assert code == 0, out
    client_id = json.loads(out)["client_id"]
    code, out = run(runner, "client", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["resources"] == [NOTES, BILLING] and listed["default_resource"] == BILLING
    code, out = run(
        runner, "client", "update", client_id, "--scope", "openid notes:read",
        "--resource", NOTES,
    )  # fmt: skip
    assert code == 0, out
    updated = json.loads(out)
    assert updated["resources"] == [NOTES] and updated["default_resource"] is None
    code, out = run(runner, "client", "update", client_id, "--resource", "https://x.example")
    assert code == 2 and "no API is registered as https://x.example" in out
    code, out = run(runner, "client", "update", client_id, "--scope", "billing:read")
    assert code == 2 and "billing:read" in out  # no longer one of its APIs' scopes
