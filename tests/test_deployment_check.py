"""``tokenpath check``: each weakening is found and named; a hardened deployment is clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenpath.deployment_check import audit
from tokenpath.runtime import migrate
from tokenpath.settings import Settings
from tokenpath.storage.key_encryption import generate_kek

HARDENED = {
    "issuer": "https://as.example",
    "audience": "https://api.example",
    "host": "127.0.0.1",
    "require_pkce_for_confidential": True,
}


@pytest.fixture
def hardened(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_encryption_key=generate_kek(), **HARDENED)


def names(settings: Settings) -> list[tuple[str, str]]:
    return [(f.setting, f.severity) for f in audit(settings)]


def test_a_hardened_deployment_has_no_finding(hardened: Settings) -> None:
    migrate(hardened)  # a private database: nothing to report about its files either
    assert audit(hardened) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"issuer": "http://127.0.0.1:9000"}, ("TOKENPATH_ISSUER", "weak")),
        ({"audience": "http://127.0.0.1:9001"}, ("TOKENPATH_AUDIENCE", "weak")),
        ({"allow_implicit": True}, ("TOKENPATH_ALLOW_IMPLICIT", "weak")),
        ({"allow_readable_database": True}, ("TOKENPATH_ALLOW_READABLE_DATABASE", "weak")),
        ({"key_encryption_key": ""}, ("TOKENPATH_KEY_ENCRYPTION_KEY", "weak")),
        ({"access_token_lifetime": 7200}, ("TOKENPATH_ACCESS_TOKEN_LIFETIME", "weak")),
        ({"refresh_token_lifetime": 400 * 24 * 3600}, ("TOKENPATH_REFRESH_TOKEN_LIFETIME", "weak")),
        ({"login_failures_per_minute": 1000}, ("TOKENPATH_LOGIN_FAILURES_PER_MINUTE", "weak")),
        ({"trusted_proxies": "0.0.0.0/0"}, ("TOKENPATH_TRUSTED_PROXIES", "weak")),
        ({"cors_origins": ["http://spa.example"]}, ("TOKENPATH_CORS_ORIGINS", "weak")),
        (
            {"require_pkce_for_confidential": False},
            ("TOKENPATH_REQUIRE_PKCE_FOR_CONFIDENTIAL", "notice"),
        ),
        ({"code_lifetime": 300}, ("TOKENPATH_CODE_LIFETIME", "notice")),
    ],
)
def test_each_weakening_is_named(
    hardened: Settings, change: dict[str, object], expected: tuple[str, str]
) -> None:
    settings = Settings(**{**hardened.model_dump(), **change})
    assert names(settings) == [expected]


def test_a_readable_database_file_is_weak(hardened: Settings) -> None:
    migrate(hardened)
    (hardened.data_dir / "tokenpath.db").chmod(0o644)
    (finding,) = audit(hardened)
    assert finding.setting == "TOKENPATH_DATABASE_URL" and "chmod 600" in finding.message


def test_check_never_creates_a_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    audit(settings)
    assert not (tmp_path / "fresh").exists()
