"""``tokenpath user add``: the password from a prompt or standard input, never from argv."""

from __future__ import annotations

from click.testing import CliRunner

from tests.cli.conftest import run


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
