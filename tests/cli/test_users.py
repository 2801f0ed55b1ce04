"""``tokenpath user add|update``: the password never from argv; claims validated, exit 2 if bad."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.cli.conftest import run
from tokenpath.cli.base import run_with_context
from tokenpath.core.context import Context
from tokenpath.runtime import load_settings


def test_user_add_from_stdin_then_duplicate_is_refused(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(runner, "user", "add", "alice", "--password-stdin", input="correct horse\n")
    assert code == 0 and "created user alice" in out
    assert "correct horse" not in out
    code, out = run(runner, "user", "add", "alice", "--password-stdin", input="correct horse\n")
    assert code == 1 and "already exists" in out  # a refused operation


def test_user_add_prompts_twice(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(runner, "user", "add", "bob", input="long password\nlong password\n")
    assert code == 0, out
    assert out.count("Password") == 1 and "Repeat for confirmation" in out
    code, out = run(runner, "user", "add", "carol", "--password-stdin", input="short\n")
    assert code == 2 and "8 to 1024 characters" in out


def stored_claims(username: str) -> dict[str, object]:
    """The claims the database holds for ``username`` (read through the runtime, as serve does)."""

    async def read(ctx: Context) -> str:
        user = await ctx.stores.users.get_by_username(username)
        assert user is not None
        return user.claims

    loaded: dict[str, object] = json.loads(run_with_context(load_settings(), read))
    return loaded


def test_user_add_with_claims(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(
        runner,
        "user",
        "add",
        "alice",
        "--password-stdin",
        "--name",
        "Alice Liddell",
        "--given-name",
        "Alice",
        "--family-name",
        "Liddell",
        "--email",
        "alice@example.com",
        "--email-verified",
        "--phone-number",
        "+441865000000",
        "--claims-json",
        '{"locale": "en-GB", "name": "overridden by --name", "nickname": null}',
        input="correct horse\n",
    )
    assert code == 0, out
    assert stored_claims("alice") == {
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "email": "alice@example.com",
        "email_verified": True,
        "phone_number": "+441865000000",
        "locale": "en-GB",
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--claims-json", "{not json"], "--claims-json is not valid JSON"),
        (["--claims-json", "[1]"], "--claims-json must be a JSON object"),
        (["--claims-json", '{"sub": "x"}'], "sub is assigned by the server"),
        (["--claims-json", '{"colour": "red"}'], "unknown claim colour"),
        (["--claims-json", '{"picture": "javascript:x"}'], "http or https URL"),
        (["--email", "not-an-address"], "claim email must be an email address"),
    ],
)
def test_user_add_refuses_bad_claims_before_asking_for_a_password(
    runner: CliRunner, env: dict[str, str], options: list[str], message: str
) -> None:
    code, out = run(runner, "user", "add", "alice", *options)
    assert code == 2 and message in out
    assert "Password" not in out


def test_user_update_changes_only_what_is_given(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(
        runner,
        "user",
        "add",
        "alice",
        "--password-stdin",
        "--name",
        "Alice",
        "--phone-number",
        "+441865000000",
        input="correct horse\n",
    )
    assert code == 0, out
    code, out = run(
        runner,
        "user",
        "update",
        "alice",
        "--email",
        "alice@example.com",
        "--no-email-verified",
        "--claims-json",
        '{"phone_number": null, "address": {"locality": "Oxford"}}',
    )
    assert code == 0, out
    assert out.startswith("updated user alice (") and "claims: address, email" in out
    assert stored_claims("alice") == {
        "name": "Alice",
        "email": "alice@example.com",
        "email_verified": False,
        "address": {"locality": "Oxford"},
    }


def test_user_update_refuses_unknown_users_bad_values_and_no_change(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(runner, "user", "update", "nobody", "--name", "N")
    assert code == 1 and "no user 'nobody'" in out  # not found
    code, out = run(runner, "user", "add", "alice", "--password-stdin", input="correct horse\n")
    assert code == 0, out
    code, out = run(runner, "user", "update", "alice")
    assert code == 2 and "nothing to change" in out
    code, out = run(runner, "user", "update", "alice", "--claims-json", '{"email_verified": 1}')
    assert code == 2 and "email_verified must be true or false" in out
    assert stored_claims("alice") == {}
