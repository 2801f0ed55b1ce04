"""Configuration that explains itself: each mistake as a real process, exit code and message.

Every case runs ``python -m tokenpath`` as an operator would and asserts the exit code, that the
message names the variable, and that no traceback is printed.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import clean_environ
from tokenpath.configuration import unknown_variables
from tokenpath.runtime import ConfigError, load_settings
from tokenpath.settings import Settings


def tokenpath(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        env=clean_environ() | env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> dict[str, str]:
    return {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TOKENPATH_PORT", "abc", "TOKENPATH_PORT='abc' is refused"),
        ("TOKENPATH_PORT", "70000", "expected a whole number between 0 and 65535"),
        ("TOKENPATH_CORS_ORIGINS", "https://spa.example/app", "is not an origin; expected"),
        ("TOKENPATH_CORS_ORIGINS", '["https://spa', "is not a valid JSON list"),
        ("TOKENPATH_DATABASE_URL", "sqlite+aiosqlite:///:memory:", "in-memory SQLite database"),
        ("TOKENPATH_DATABASE_URL", "mysql://u@db/x", "the scheme 'mysql' is not supported"),
        ("TOKENPATH_LOG_FORMAT", "xml", "expected one of text, json"),
        ("TOKENPATH_ALLOW_IMPLICIT", "perhaps", "expected true or false"),
        ("TOKENPATH_TRUSTED_PROXIES", "10.0.0.0/8,proxy", "'proxy' is not an IP address"),
    ],
)
def test_a_refused_value_exits_2_naming_the_variable(
    data: dict[str, str], variable: str, value: str, expected: str
) -> None:
    done = tokenpath(data | {variable: value}, "check")
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and expected in done.stderr
    assert "Traceback" not in done.stderr


def test_a_comma_separated_list_simply_works(data: dict[str, str]) -> None:
    origins = "https://spa.example, https://admin.example"
    done = tokenpath(data | {"TOKENPATH_CORS_ORIGINS": origins}, "config", "show", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["settings"]["TOKENPATH_CORS_ORIGINS"]
    assert shown == {
        "value": ["https://spa.example", "https://admin.example"],
        "source": "env",
        "via": "TOKENPATH_CORS_ORIGINS",
    }
    one = tokenpath(data | {"TOKENPATH_CORS_ORIGINS": "https://spa.example"}, "check")
    assert one.returncode == 0, one.stderr


def test_an_unwritable_sqlite_path_exits_2_naming_the_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    # db upgrade: the one command that creates the database (others only open an existing one)
    done = tokenpath({"TOKENPATH_DATA_DIR": str(blocker / "data")}, "db", "upgrade")
    assert done.returncode == 2, done.stderr
    assert f"TOKENPATH_DATA_DIR={blocker / 'data'}" in done.stderr
    assert "cannot create or open the SQLite database" in done.stderr
    assert "Traceback" not in done.stderr


def test_login_when_the_server_is_down(data: dict[str, str]) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    done = tokenpath(data, "login", "--client-id", "x", "--issuer", issuer, "--no-browser")
    assert done.returncode == 1
    assert f"cannot reach the authorization server at {issuer}" in done.stderr
    assert "tokenpath serve" in done.stderr and "Traceback" not in done.stderr


def test_a_busy_port_exits_1_and_names_it(data: dict[str, str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = data | {"TOKENPATH_PORT": str(port), "TOKENPATH_ISSUER": f"http://127.0.0.1:{port}"}
        done = tokenpath(env, "serve")
    assert done.returncode == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in done.stderr
    assert "TOKENPATH_PORT" in done.stderr and "Traceback" not in done.stderr


def test_messages_are_utf8_whatever_the_locale(data: dict[str, str]) -> None:
    env = data | {"TOKENPATH_ISSUER": "http://as.example", "LC_ALL": "C", "LANG": "C"}
    env |= {"PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, "-m", "tokenpath", "check"],
        env=clean_environ() | env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "RFC 9700 §2.6".encode() in done.stderr  # not "?2.6"


def test_an_unknown_variable_is_warned_about_with_the_nearest_name(data: dict[str, str]) -> None:
    done = tokenpath(data | {"TOKENPATH_ISSUR": "https://as.example"}, "check")
    assert done.returncode == 0
    assert (
        "TOKENPATH_ISSUR is not a tokenpath setting and is ignored; "
        "did you mean TOKENPATH_ISSUER?" in done.stderr
    )
    assert unknown_variables(Settings, {"TOKENPATH_PAIRWISE_SALT_FILE": "/x"}) == []
    assert unknown_variables(Settings, {"TOKENPATH_CONFIG": "/x", "OTHER": "y"}) == []


def test_file_then_environment_then_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: dict[str, str]
) -> None:
    config = tmp_path / "tokenpath.toml"
    config.write_text(
        'issuer = "https://as.example"\nport = 9100\nTOKENPATH_CODE_LIFETIME = 30\n'
        'cors_origins = ["https://spa.example"]\n'
    )
    env = data | {"TOKENPATH_PORT": "9200"}
    done = tokenpath(env, "config", "show", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["config_file"] == str(config)
    rows = shown["settings"]
    assert rows["TOKENPATH_ISSUER"] == {
        "value": "https://as.example", "source": "file", "via": str(config),
    }  # fmt: skip
    assert rows["TOKENPATH_PORT"]["value"] == 9200 and rows["TOKENPATH_PORT"]["source"] == "env"
    assert rows["TOKENPATH_CODE_LIFETIME"]["value"] == 30
    assert rows["TOKENPATH_HOST"] == {"value": "127.0.0.1", "source": "default"}
    for name, value in (data | {"TOKENPATH_CONFIG": str(config)}).items():
        monkeypatch.setenv(name, value)
    assert load_settings(port=9300).port == 9300  # a flag beats them all


def test_a_bad_file_is_refused_by_name(tmp_path: Path, data: dict[str, str]) -> None:
    config = tmp_path / "tokenpath.toml"
    config.write_text('issur = "https://as.example"\n')
    done = tokenpath(data | {"TOKENPATH_CONFIG": str(config)}, "check")
    assert done.returncode == 2
    assert "unknown setting 'issur' (did you mean 'issuer'?)" in done.stderr
    config.write_text("port = \n")
    done = tokenpath(data, "check", "--config", str(config))
    assert done.returncode == 2 and "is not valid TOML" in done.stderr
    config.write_text('port = "abc"\n')
    done = tokenpath(data, "check", "--config", str(config))
    assert done.returncode == 2 and f"(set by {config})" in done.stderr
    assert "Traceback" not in done.stderr


def test_secrets_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    salt = tmp_path / "salt"
    salt.write_text("a-long-random-salt\n")
    monkeypatch.setenv("TOKENPATH_PAIRWISE_SALT_FILE", str(salt))
    assert load_settings().pairwise_salt == "a-long-random-salt"
    monkeypatch.setenv("TOKENPATH_PAIRWISE_SALT", "another")
    with pytest.raises(ConfigError, match=r"set TOKENPATH_PAIRWISE_SALT or .*_FILE, not both"):
        load_settings()
    monkeypatch.delenv("TOKENPATH_PAIRWISE_SALT")
    monkeypatch.setenv("TOKENPATH_PAIRWISE_SALT_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="TOKENPATH_PAIRWISE_SALT_FILE: cannot read"):
        load_settings()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/x", "postgresql+asyncpg://u:p@db:5432/x"),
        ("postgresql://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("postgresql+asyncpg://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("sqlite:////var/lib/t.db", "sqlite+aiosqlite:////var/lib/t.db"),
    ],
)
def test_database_urls_are_normalised(given: str, expected: str) -> None:
    assert Settings(database_url=given).database_url == expected
