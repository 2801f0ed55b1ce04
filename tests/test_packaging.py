"""What `pip install tokenpath` promises: bounded dependency ranges, the tested set pinned, a
license file that matches the metadata."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_runtime_dependency_has_a_lower_and_an_upper_bound() -> None:
    for line in PROJECT["dependencies"]:
        operators = {spec.operator for spec in Requirement(line).specifier}
        assert ">=" in operators and "<" in operators, line


def test_the_tested_set_pins_every_runtime_dependency_inside_its_range() -> None:
    pins = _pins()
    for line in PROJECT["dependencies"]:
        requirement = Requirement(line)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is not pinned in constraints.txt (make constraints)"
        assert requirement.specifier.contains(pins[name]), (line, pins[name])


def test_the_license_file_is_the_one_the_metadata_declares() -> None:
    assert PROJECT["license"] == {"text": "Apache-2.0"}
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
