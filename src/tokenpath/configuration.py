"""Where settings come from: flags, ``TOKENPATH_*`` variables, ``*_FILE`` secrets, a TOML file.

The settings class (:mod:`tokenpath.settings`) declares *what* can be set; this module finds the
values and remembers *where* each one came from, so that ``tokenpath config show`` can say it and
a refused value can be traced to the place that set it. Precedence, highest first:

1. a command-line flag (``serve --port``),
2. the environment: ``TOKENPATH_<NAME>``, or for a secret ``TOKENPATH_<NAME>_FILE`` naming a file
   that holds it (a mounted secret; setting both is refused),
3. the TOML file named by ``--config`` / ``TOKENPATH_CONFIG``: the same names, lower case without
   the prefix (``issuer = "https://as.example"``) or upper case with it; ``<name>_file`` works
   for secrets there too,
4. the default.

A ``TOKENPATH_*`` variable that names no setting is most likely a typo (``TOKENPATH_ISSUR``):
:func:`unknown_variables` says which, with the nearest real name. An unknown key in the file is
refused outright: the file is written for tokenpath alone.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

__all__ = [
    "CONFIG_VARIABLE",
    "PREFIX",
    "SECRET",
    "ConfigFileSource",
    "Origin",
    "SecretFileSource",
    "SettingsSourceError",
    "config_path",
    "is_secret",
    "origins",
    "read_config_file",
    "unknown_variables",
    "variable",
]

PREFIX = "TOKENPATH_"
CONFIG_VARIABLE = "TOKENPATH_CONFIG"
"""Names the TOML file (``--config`` sets it, so ``serve --workers`` passes it on)."""
SECRET = "tokenpath_secret"
"""``json_schema_extra`` key marking a secret setting: masked in ``config show``, ``*_FILE``."""

Origin = Literal["default", "file", "env", "flag"]


class SettingsSourceError(ValueError):
    """A place settings are read from is unusable (the message names it and says why)."""


def variable(name: str) -> str:
    """The environment variable of the setting ``name``."""
    return f"{PREFIX}{name.upper()}"


def is_secret(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get(SECRET) is True


def _secret_names(fields: Mapping[str, FieldInfo]) -> list[str]:
    """Secret settings read through the generic ``*_FILE`` rule (not those declaring their own)."""
    return [n for n, f in fields.items() if is_secret(f) and f"{n}_file" not in fields]


def _environ(environ: Mapping[str, str] | None) -> dict[str, str]:
    """``TOKENPATH_*`` variables, upper-cased (settings are case-insensitive, like the env)."""
    source = os.environ if environ is None else environ
    return {k.upper(): v for k, v in source.items() if k.upper().startswith(PREFIX)}


def config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    value = _environ(environ).get(CONFIG_VARIABLE, "").strip()
    return Path(value) if value else None


def _read_secret(name: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise SettingsSourceError(
            f"{name}: cannot read {path}: {error.strerror or error}; "
            "expected a readable file that holds the secret"
        ) from None


def read_config_file(
    fields: Mapping[str, FieldInfo], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The settings in the TOML file named by ``TOKENPATH_CONFIG`` (empty without one)."""
    path = config_path(environ)
    if path is None:
        return {}
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except OSError as error:
        raise SettingsSourceError(
            f"{CONFIG_VARIABLE}: cannot read {path}: {error.strerror or error}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsSourceError(
            f"{CONFIG_VARIABLE}: {path} is not valid TOML ({error}); expected lines such as "
            'issuer = "https://as.example"'
        ) from None
    secrets = _secret_names(fields)
    values: dict[str, Any] = {}
    for key, value in document.items():
        name = key.lower().removeprefix(PREFIX.lower())
        if name in fields:
            values[name] = value
        elif name.endswith("_file") and name.removesuffix("_file") in secrets:
            values[name.removesuffix("_file")] = _read_secret(f"{key} in {path}", str(value))
        else:
            known = [*fields, *(f"{s}_file" for s in secrets)]
            hint = difflib.get_close_matches(name, known, n=1)
            maybe = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise SettingsSourceError(f"{path}: unknown setting {key!r}{maybe}")
    return values


def _secret_files(
    fields: Mapping[str, FieldInfo], environ: Mapping[str, str] | None
) -> dict[str, str]:
    env = _environ(environ)
    values = {}
    for name in _secret_names(fields):
        file_variable = f"{variable(name)}_FILE"
        if file_variable not in env:
            continue
        if env.get(variable(name), "").strip():
            raise SettingsSourceError(f"set {variable(name)} or {file_variable}, not both")
        values[name] = _read_secret(file_variable, env[file_variable])
    return values


class SecretFileSource(PydanticBaseSettingsSource):
    """``TOKENPATH_<SECRET>_FILE``: the secret read from the named file, whitespace stripped."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything happens in __call__

    def __call__(self) -> dict[str, Any]:
        return _secret_files(self.settings_cls.model_fields, None)


class ConfigFileSource(PydanticBaseSettingsSource):
    """The TOML file of ``TOKENPATH_CONFIG``, below the environment."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return read_config_file(self.settings_cls.model_fields)


@dataclass(frozen=True, slots=True)
class Provenance:
    origin: Origin
    via: str = ""
    """The exact place: ``TOKENPATH_PORT``, ``TOKENPATH_PAIRWISE_SALT_FILE``, ``--port``, a path."""


def origins(
    settings_cls: type[BaseSettings],
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Provenance]:
    """Where each setting's value comes from, by the precedence in the module docstring."""
    fields = settings_cls.model_fields
    env = _environ(environ)
    in_file = read_config_file(fields, environ)
    path = config_path(environ)
    secrets = _secret_names(fields)
    found: dict[str, Provenance] = {}
    for name in fields:
        if overrides and overrides.get(name) is not None:
            found[name] = Provenance("flag", f"--{name.replace('_', '-')}")
        elif variable(name) in env:
            found[name] = Provenance("env", variable(name))
        elif name in secrets and f"{variable(name)}_FILE" in env:
            found[name] = Provenance("env", f"{variable(name)}_FILE")
        elif name in in_file:
            found[name] = Provenance("file", str(path))
        else:
            found[name] = Provenance("default")
    return found


def unknown_variables(
    settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None
) -> list[str]:
    """One warning per ``TOKENPATH_*`` variable that names no setting, with the nearest name."""
    fields = settings_cls.model_fields
    known = {variable(n) for n in fields} | {CONFIG_VARIABLE}
    known |= {f"{variable(n)}_FILE" for n in _secret_names(fields)}
    warnings = []
    for name in sorted(_environ(environ)):
        if name in known:
            continue
        hint = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        maybe = f"; did you mean {hint[0]}?" if hint else ""
        warnings.append(f"{name} is not a tokenpath setting and is ignored{maybe}")
    return warnings
