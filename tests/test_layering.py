"""The layers depend downward only; this walks every import in ``src/tokenpath`` with ``ast``.

    core      stdlib + joserfc + tokenpath.core                      (sans-IO: no HTTP, no SQL)
    storage   + tokenpath.core, and the database/hashing libraries
    settings  + tokenpath.core, tokenpath.configuration, pydantic   (configuration as data)
    configuration  stdlib, pydantic                                 (where settings come from)
    observability  + tokenpath.core, prometheus_client              (log format, metrics)
    runtime   + core, storage, settings; no HTTP framework, no CLI   (the composition root;
              used by web, cli and demo inside the package, and by bench/ and tests/)
    web       + core, storage, settings, runtime; never resource/clients/lab/cli; no SQL driver
    demo      + anything but the CLI                                 (the CLI runs it, lazily)
    cli       the top: imported by nothing but ``tokenpath.__main__``
    resource  + only tokenpath.core.bearer, .clock, .dpop, .dpop_nonces, .errors, .ttl
              (a library any API can use)
    clients   nothing from tokenpath outside tokenpath.clients        (see below)
    lab       imported by nothing but itself and, lazily, by the demo and CLI commands but serve

Clients talk to the authorization server only over HTTP, exactly like a third-party client
would; importing the server's core, storage or web code could hide a protocol bug behind shared
code (the web app even keeps its own session table with its own SQLAlchemy code). So the rule
for ``clients`` is the strictest: no ``tokenpath`` import outside ``tokenpath.clients``.

``if TYPE_CHECKING:`` and function-level imports count like any other.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.support.imports import Import, resolve, walk

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "tokenpath"


IMPORTS = walk(SRC, "tokenpath")


def _top(name: str) -> str:
    return name.split(".")[0]


def _is_stdlib(name: str) -> bool:
    return _top(name) in sys.stdlib_module_names


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _imports_of(layer: str) -> list[Import]:
    return [i for i in IMPORTS if _within(i.module, layer)]


def _show(imports: list[Import]) -> str:
    return "\n".join(f"{i.module}:{i.line} imports {i.target}" for i in imports)


def _third_party(imports: list[Import]) -> list[Import]:
    return [i for i in imports if not _is_stdlib(i.target) and _top(i.target) != "tokenpath"]


def test_the_walk_sees_the_whole_package() -> None:
    """Guards the test itself: an empty walk would make every rule pass."""
    modules = {i.module for i in IMPORTS}
    for layer in ("core", "storage", "web", "resource", "clients", "cli", "runtime", "demo"):
        assert any(_within(m, f"tokenpath.{layer}") for m in modules), layer
    assert len(IMPORTS) > 200
    assert _is_stdlib("dataclasses") and _is_stdlib("__future__") and not _is_stdlib("httpx")


def test_core_imports_only_the_stdlib_joserfc_and_itself() -> None:
    bad = [
        i
        for i in _imports_of("tokenpath.core")
        if not (_is_stdlib(i.target) or _within(i.target, "joserfc", "tokenpath.core"))
    ]
    assert not bad, _show(bad)


BELOW_RUNTIME = ("tokenpath.core", "tokenpath.storage", "tokenpath.settings")
FRAMEWORKS = ("click", "starlette", "uvicorn", "httpx")
STORAGE_LIBRARIES = ("sqlalchemy", "alembic", "argon2", "asyncpg", "aiosqlite", "redis")


def test_storage_imports_only_core_and_database_libraries() -> None:
    bad = [
        i
        for i in _imports_of("tokenpath.storage")
        if not (
            _is_stdlib(i.target)
            or _within(i.target, "tokenpath.core", "tokenpath.storage", *STORAGE_LIBRARIES)
            or _within(i.target, "cryptography")  # keys at rest: storage/key_encryption.py
            # clients' jwks_uri key sets: the one storage module that speaks HTTP
            or (i.module == "tokenpath.storage.remote_key_sets" and _within(i.target, "httpx"))
        )
    ]
    assert not bad, _show(bad)


def test_settings_imports_only_core() -> None:
    bad = [
        i
        for i in _imports_of("tokenpath.settings")
        if _top(i.target) == "tokenpath"
        and not _within(i.target, "tokenpath.core", "tokenpath.configuration")
    ]
    assert not bad, _show(bad)


def test_configuration_imports_nothing_of_tokenpath() -> None:
    """Where settings come from (env, ``*_FILE``, TOML) knows no setting and no layer."""
    bad = [i for i in _imports_of("tokenpath.configuration") if _top(i.target) == "tokenpath"]
    assert not bad, _show(bad)


def test_observability_imports_only_core() -> None:
    """Log format and metrics: below web and runtime, above nothing but the core's events."""
    bad = [
        i
        for i in _imports_of("tokenpath.observability")
        if _top(i.target) == "tokenpath"
        and not _within(i.target, "tokenpath.core", "tokenpath.observability")
    ]
    frameworks = [
        i for i in _third_party(_imports_of("tokenpath.observability"))
        if not _within(i.target, "prometheus_client")
    ]  # fmt: skip
    assert not bad and not frameworks, _show(bad + frameworks)


def test_runtime_imports_core_storage_and_settings_only() -> None:
    """The composition root: getting a Context never loads HTTP, the CLI or an upper layer."""
    mine = _imports_of("tokenpath.runtime")
    upward = [
        i
        for i in mine
        if _top(i.target) == "tokenpath"
        and not _within(
            i.target,
            "tokenpath.core",
            "tokenpath.storage",
            "tokenpath.settings",
            "tokenpath.configuration",
            "tokenpath.observability",
            "tokenpath.runtime",
        )
    ]
    assert not upward, _show(upward)
    frameworks = [i for i in _third_party(mine) if _within(i.target, *FRAMEWORKS)]
    assert not frameworks, _show(frameworks)


def test_runtime_is_used_only_by_the_layers_above_it() -> None:
    bad = [
        i
        for i in IMPORTS
        if _within(i.target, "tokenpath.runtime")
        and not _within(i.module, "tokenpath.runtime", "tokenpath.web", "tokenpath.cli")
        and i.module != "tokenpath.demo"
        # the attack playground registers its own lab clients in the demo database
        and i.module != "tokenpath.lab.attacks.actors"
    ]
    assert not bad, _show(bad)


def test_the_deployment_check_reads_settings_and_storage_only() -> None:
    """``tokenpath check`` audits configuration: settings and file modes, no HTTP, no upper layer;
    only the CLI uses it."""
    mine = _imports_of("tokenpath.deployment_check")
    upward = [
        i
        for i in mine
        if _top(i.target) == "tokenpath"
        and not _within(i.target, "tokenpath.settings", "tokenpath.storage", "tokenpath.core")
    ]
    assert not upward, _show(upward)
    users = [
        i
        for i in IMPORTS
        if _within(i.target, "tokenpath.deployment_check")
        and not _within(i.module, "tokenpath.cli", "tokenpath.deployment_check")
    ]
    assert not users, _show(users)


def test_nothing_imports_the_cli() -> None:
    """The CLI is the top: the demo, the web app and the rest take their wiring from
    ``tokenpath.runtime``, so no module can end up importing the command line."""
    bad = [
        i
        for i in IMPORTS
        if _within(i.target, "tokenpath.cli")
        and not _within(i.module, "tokenpath.cli")
        and i.module != "tokenpath.__main__"
    ]
    assert not bad, _show(bad)


def test_web_imports_core_storage_and_settings_only() -> None:
    mine = _imports_of("tokenpath.web")
    upward = [
        i
        for i in mine
        if _top(i.target) == "tokenpath"
        and not _within(
            i.target,
            "tokenpath.core",
            "tokenpath.storage",
            "tokenpath.settings",
            "tokenpath.configuration",
            "tokenpath.observability",
            "tokenpath.runtime",
            "tokenpath.web",
        )
    ]
    assert not upward, _show(upward)
    # SQL stays behind the storage ports: the web layer never speaks to a database itself
    sql = [i for i in _third_party(mine) if _within(i.target, *STORAGE_LIBRARIES)]
    assert not sql, _show(sql)


def test_resource_uses_only_generic_core_modules() -> None:
    bad = [
        i
        for i in _imports_of("tokenpath.resource")
        if _top(i.target) == "tokenpath"
        and not _within(
            i.target,
            "tokenpath.core.bearer",
            "tokenpath.core.clock",
            "tokenpath.core.dpop",  # the one DPoP proof checker (RFC 9449 §4.3, §7)
            "tokenpath.core.dpop_nonces",
            "tokenpath.core.errors",
            "tokenpath.core.ttl",
            "tokenpath.resource",
        )
    ]
    assert not bad, _show(bad)


def test_clients_use_nothing_of_the_server() -> None:
    bad = [
        i
        for i in _imports_of("tokenpath.clients")
        if _top(i.target) == "tokenpath" and not _within(i.target, "tokenpath.clients")
    ]
    assert not bad, _show(bad)


def test_nothing_imports_the_lab() -> None:
    """Only the lab itself, the demo (inside a function: the lab is part of ``tokenpath demo``)
    and, inside a function, a CLI command other than ``serve``. ``serve`` and the server's
    layers can therefore never load an ``insecure_*`` module."""
    bad = [
        i
        for i in IMPORTS
        if _within(i.target, "tokenpath.lab")
        and not _within(i.module, "tokenpath.lab")
        and not (
            _within(i.module, "tokenpath.cli", "tokenpath.demo")
            and i.function is not None
            and i.function != "serve"
            and not _within(i.module, "tokenpath.cli.serve")
        )
    ]
    assert not bad, _show(bad)


def test_insecure_modules_live_only_under_lab_attacks() -> None:
    insecure = [
        p.relative_to(PACKAGE)
        for p in PACKAGE.rglob("*.py")
        if p.stem.startswith("insecure") or "insecure_" in p.stem
    ]
    assert all(p.parts[:2] == ("lab", "attacks") for p in insecure), insecure


@pytest.mark.parametrize(
    ("module", "is_package", "source", "expected"),
    [
        ("tokenpath.web.app", False, "from .security import x", ["tokenpath.web.security"]),
        ("tokenpath.web", True, "from .app import x", ["tokenpath.web.app"]),
        ("tokenpath.web.app", False, "from .. import core", ["tokenpath.core"]),
        ("tokenpath.clients.webapp.app", False, "from ...lab import x", ["tokenpath.lab"]),
    ],
)
def test_relative_imports_are_resolved(
    module: str, is_package: bool, source: str, expected: list[str]
) -> None:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ImportFrom)
    assert resolve(module, is_package, node) == expected
