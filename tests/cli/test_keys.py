"""``tokenpath keys``: list, rotate, and the key-encryption key (generate-kek, rewrap)."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.conftest import run
from tokenpath.storage.key_encryption import generate_kek


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


def test_generate_kek_prints_a_fresh_32_byte_key(runner: CliRunner, env: dict[str, str]) -> None:
    code, first = run(runner, "keys", "generate-kek")
    _, second = run(runner, "keys", "generate-kek")
    raw = base64.urlsafe_b64decode(first.strip())
    assert code == 0 and len(raw) == 32 and first != second


def test_rewrap_moves_every_key_to_the_new_kek(
    runner: CliRunner, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = generate_kek(), generate_kek()
    monkeypatch.setenv("TOKENPATH_KEY_ENCRYPTION_KEY", old)
    assert run(runner, "keys", "list")[0] == 0  # the first key
    code, out = run(runner, "keys", "rotate")
    assert code == 0
    database = Path(env["TOKENPATH_DATA_DIR"]) / "tokenpath.db"
    stored = [
        r[0] for r in sqlite3.connect(database).execute("select private_jwk from signing_keys")
    ]
    assert len(stored) == 2 and all(s.startswith("enc:v1:") and '"d"' not in s for s in stored)
    monkeypatch.setenv("TOKENPATH_KEY_ENCRYPTION_KEY", f"{new},{old}")
    code, out = run(runner, "keys", "rewrap")
    assert code == 0 and out.startswith("2 signing key(s) rewrapped")
    monkeypatch.setenv("TOKENPATH_KEY_ENCRYPTION_KEY", new)
    code, out = run(runner, "keys", "list")
    assert code == 0 and out.count("ES256") == 2
    monkeypatch.setenv("TOKENPATH_KEY_ENCRYPTION_KEY", old)
    code, out = run(runner, "keys", "list")
    assert code != 0 and "TOKENPATH_KEY_ENCRYPTION_KEY" in out


def test_rewrap_without_a_kek_is_a_usage_error(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(runner, "keys", "rewrap")
    assert code == 2 and "set TOKENPATH_KEY_ENCRYPTION_KEY" in out
