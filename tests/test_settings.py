"""Settings: environment parsing, the Policy they build, and the configurations refused."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from tokenpath.settings import InsecureConfiguration, Settings, ensure_safe_bind, is_loopback_host


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("TOKENPATH_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_secure_loopback_profile() -> None:
    settings = Settings()
    assert settings.issuer == "http://127.0.0.1:9000"
    assert settings.audience == "http://127.0.0.1:9001"
    expected = Path(".tokenpath/tokenpath.db").resolve()
    assert settings.database_url == f"sqlite+aiosqlite:///{expected}"
    assert (settings.host, settings.port) == ("127.0.0.1", 9000)
    policy = settings.policy()
    assert policy.allow_implicit is False and policy.require_pkce_for_confidential is False
    assert (policy.code_lifetime, policy.access_token_lifetime) == (60, 600)
    assert policy.implicit_access_token_lifetime == 300 and policy.session_lifetime == 28800
    assert settings.weakened() == [] and settings.secure_cookies is False


def test_environment_with_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKENPATH_ISSUER", "https://as.example")
    monkeypatch.setenv("TOKENPATH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TOKENPATH_ALLOW_IMPLICIT", "true")
    monkeypatch.setenv("TOKENPATH_CODE_LIFETIME", "30")
    monkeypatch.setenv("TOKENPATH_CORS_ORIGINS", '["http://127.0.0.1:9003"]')
    settings = Settings()
    assert settings.issuer == "https://as.example" and settings.secure_cookies
    assert settings.issuer_origin == "https://as.example"
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'tokenpath.db').resolve()}"
    assert settings.policy().allow_implicit and settings.policy().code_lifetime == 30
    assert settings.weakened() == ["allow_implicit"]
    assert settings.cors_origins == ["http://127.0.0.1:9003"]


def test_explicit_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENPATH_DATABASE_URL", "postgresql+asyncpg://u@db/x")
    assert Settings().database_url == "postgresql+asyncpg://u@db/x"


@pytest.mark.parametrize(
    "issuer",
    ["http://as.example", "http://10.0.0.1:9000", "http://0.0.0.0:9000", "ftp://as.example", "as"],
)
def test_plain_http_issuer_off_loopback_is_refused(issuer: str) -> None:
    with pytest.raises(ValidationError):
        Settings(issuer=issuer)


@pytest.mark.parametrize(
    "issuer", ["https://as.example/", "https://as.example?x=1", "https://as.example#f"]
)
def test_issuer_shape_is_checked_at_start(issuer: str) -> None:
    with pytest.raises(ValidationError):
        Settings(issuer=issuer)


def test_http_issuer_may_not_bind_beyond_loopback() -> None:
    with pytest.raises(ValidationError, match="refusing to bind"):
        Settings(host="0.0.0.0")
    with pytest.raises(InsecureConfiguration):
        ensure_safe_bind("http://127.0.0.1:9000", "192.168.1.10")
    ensure_safe_bind("http://127.0.0.1:9000", "::1")
    ensure_safe_bind("https://as.example", "0.0.0.0")
    assert Settings(issuer="https://as.example", host="0.0.0.0").host == "0.0.0.0"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("example.com", False),
        ("::", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_bad_lifetimes_and_origins_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(code_lifetime=3600)
    with pytest.raises(ValidationError, match="postgresql\\+asyncpg"):
        Settings(database_url="postgresql+psycopg://u@db/x")
    with pytest.raises(ValidationError):
        Settings(cors_origins=["http://127.0.0.1:9003/path"])


def test_weakenings_are_logged_at_start(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(allow_implicit=True)
    with caplog.at_level(logging.WARNING, logger="tokenpath.settings"):
        settings.log_startup_warnings()
    messages = [r.getMessage() for r in caplog.records]
    assert any("allow_implicit is on" in m for m in messages)
    assert any("insecure-dev" in m for m in messages)


def test_every_setting_is_documented() -> None:
    """docs/reference/settings.md stays true: one row per Settings field."""
    reference = (Path(__file__).parents[1] / "docs" / "reference" / "settings.md").read_text()
    missing = [n for n in Settings.model_fields if f"`TOKENPATH_{n.upper()}`" not in reference]
    assert missing == []
