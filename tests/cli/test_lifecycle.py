"""The lifecycle commands' contracts: read-only commands create nothing, an old schema is named,
exit codes 0/1/2 as docs/reference/cli.md documents them."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from click.testing import CliRunner

from tests.cli.conftest import run
from tokenpath.runtime import load_settings
from tokenpath.storage.sql.database import _alembic_config


def test_read_only_commands_never_create_a_database(
    runner: CliRunner, bare_env: dict[str, str]
) -> None:
    for args in (["client", "list"], ["user", "show", "alice"], ["grants", "list", "--user", "a"],
                 ["keys", "list"], ["admin", "token", "list"], ["db", "current"]):  # fmt: skip
        code, out = run(runner, *args)
        assert code == 1 and "tokenpath db upgrade" in out, (args, out)
    code, out = run(runner, "db", "check", "--json")
    assert code == 1 and json.loads(out)["exists"] is False
    assert not Path(bare_env["TOKENPATH_DATA_DIR"]).exists()


def test_an_old_schema_is_named_and_only_db_upgrade_moves_it(
    runner: CliRunner, env: dict[str, str]
) -> None:
    url = load_settings().database_url
    command.downgrade(_alembic_config(url, None), "0007")
    code, out = run(runner, "client", "list")
    assert code == 1 and "is at schema revision 0007" in out and "tokenpath db upgrade" in out
    code, out = run(runner, "db", "check")
    assert code == 1
    code, out = run(runner, "db", "current", "--json")
    assert code == 0 and json.loads(out)["current"] == "0007"
    assert run(runner, "db", "upgrade")[0] == 0
    code, out = run(runner, "db", "check")
    assert code == 0 and "newest revision" in out


def test_exit_codes_for_missing_refused_and_invalid(runner: CliRunner, env: dict[str, str]) -> None:
    assert run(runner, "client", "show", "nope")[0] == 1
    assert run(runner, "client", "delete", "nope")[0] == 1
    assert run(runner, "user", "disable", "nobody")[0] == 1
    assert run(runner, "grants", "revoke", "--grant", "nope")[0] == 1
    assert run(runner, "grants", "revoke")[0] == 2
    assert run(runner, "client", "rotate-secret", "x", "--overlap", "-1")[0] == 2
    spa = ["--name", "SPA", "--type", "public", "--redirect-uri", "http://127.0.0.1:9/cb"]
    code, out = run(runner, "client", "add", *spa, "--scope", "openid", "--json")
    public_id = json.loads(out)["client_id"]
    code, out = run(runner, "client", "rotate-secret", public_id)
    assert code == 1 and "no secret to rotate" in out
    assert run(runner, "user", "add", "bob", "--password-stdin", input="long password\n")[0] == 0
    for _ in range(2):
        code, out = run(runner, "grants", "revoke", "--user", "bob", "--json")
        assert code == 0 and json.loads(out) == {"revoked_grants": 0, "ended_sessions": 0}
    code, out = run(runner, "user", "passwd", "bob", "--password-stdin", input="short\n")
    assert code == 2
    assert run(runner, "user", "delete", "bob")[0] == 0
    assert run(runner, "user", "delete", "bob")[0] == 1
