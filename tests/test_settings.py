"""Settings: environment parsing, the Policy they build, and the configurations refused."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from tokenpath.cli import main
from tokenpath.core.policy import Policy, PolicyKnobs, knob_of
from tokenpath.runtime import ConfigError, load_settings
from tokenpath.settings import (
    KNOB_NAMES,
    InsecureConfiguration,
    Settings,
    ensure_safe_bind,
    is_loopback_host,
    reference_tables,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("TOKENPATH_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_secure_loopback_profile() -> None:
    settings = Settings()
    assert settings.issuer == "http://127.0.0.1:9000"
    assert settings.audience is None  # no default API: nothing keeps a loopback audience
    assert settings.access_token_claims == ""
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


def test_every_policy_field_is_a_setting_or_deliberately_not() -> None:
    """A new Policy field is a knob (then a setting) or joins this list with its reason."""
    not_settings = {
        "issuer": "a setting of its own, checked for shape (https, loopback) before the Policy",
        "audience": "a setting of its own: the default API's identifier, not a policy choice",
        "scopes_supported": "the scopes the server implements, not a deployment choice",
        "max_param_length": "an input-hardening limit of the protocol code, bounded in the core",
        "pairwise_salt": "a secret setting of its own, passed through as is",
    }
    policy_fields = {f.name for f in fields(Policy)}
    assert policy_fields == set(KNOB_NAMES) | set(not_settings)
    assert not set(KNOB_NAMES) & set(not_settings)
    assert set(KNOB_NAMES) <= set(Settings.model_fields)
    own_settings = {"issuer", "audience", "pairwise_salt"}
    assert set(not_settings) - own_settings <= policy_fields - set(Settings.model_fields)


def test_knob_settings_follow_their_declarations() -> None:
    """Type, default and description of each knob setting come from the dataclass field."""
    for declared in fields(PolicyKnobs):
        setting = Settings.model_fields[declared.name]
        spec = knob_of(declared.metadata)
        assert spec is not None and spec.why
        assert setting.default == declared.default
        assert setting.description == spec.why
    assert Settings().policy() == Policy(issuer=Settings().issuer, audience=Settings().audience)


def test_every_knob_reaches_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """``policy()`` carries every knob: set each to a non-default value through the environment."""
    changed: dict[str, object] = {}
    for declared in fields(PolicyKnobs):
        spec = knob_of(declared.metadata)
        low = spec.low if spec is not None and spec.low is not None else 1
        value = (not declared.default) if isinstance(declared.default, bool) else max(1, low)
        changed[declared.name] = value
        monkeypatch.setenv(f"TOKENPATH_{declared.name.upper()}", str(value).lower())
    policy = Settings().policy()
    assert {name: getattr(policy, name) for name in changed} == changed


def _lowest(name: str) -> int:
    spec = knob_of(next(f for f in fields(PolicyKnobs) if f.name == name).metadata)
    assert spec is not None and spec.low is not None
    return spec.low


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("code_lifetime", 0),
        ("code_lifetime", 601),
        ("access_token_lifetime", 0),
        ("implicit_access_token_lifetime", -5),
        ("session_lifetime", 0),
        ("refresh_token_lifetime", -1),
        ("refresh_token_idle_lifetime", 0),
        ("login_failures_per_minute", 0),
        ("client_auth_failures_per_minute", -1),
        ("client_cache_seconds", -1),
        ("port", "not-a-port"),
    ],
)
def test_out_of_range_settings_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: object
) -> None:
    monkeypatch.setenv(f"TOKENPATH_{name.upper()}", str(value))
    with pytest.raises(
        ConfigError,
        match=f"TOKENPATH_{name.upper()}='{value}' is refused: .*; expected a whole number",
    ):
        load_settings()
    result = CliRunner().invoke(main, ["check"])  # the CLI: exit code 2, the setting named
    assert result.exit_code == 2 and f"TOKENPATH_{name.upper()}" in result.output


def test_every_integer_knob_is_bounded_below_by_one() -> None:
    integer_knobs = [f.name for f in fields(PolicyKnobs) if type(f.default) is int]  # not bools
    assert integer_knobs and all(_lowest(name) >= 1 for name in integer_knobs)
    for name in integer_knobs:
        Settings(**{name: _lowest(name)})  # the bound itself is accepted


def test_every_setting_is_described() -> None:
    """A plain setting needs only its docstring to reach the reference."""
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []


def test_reference_is_generated_from_the_declarations() -> None:
    """docs/reference/settings.md holds exactly what ``python -m tokenpath.settings`` prints."""
    reference = (Path(__file__).parents[1] / "docs" / "reference" / "settings.md").read_text()
    begin = "<!-- generated by python -m tokenpath.settings: begin -->\n"
    end = "<!-- generated by python -m tokenpath.settings: end -->"
    generated = reference.split(begin, 1)[1].split(end, 1)[0]
    assert generated == reference_tables(), "regenerate with python -m tokenpath.settings"
    missing = [n for n in Settings.model_fields if f"`TOKENPATH_{n.upper()}`" not in generated]
    assert missing == []
