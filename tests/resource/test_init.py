"""``pip install tokenpath`` is enough: the library never imports a framework it was not asked
for, and an adapter whose framework is missing says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_library_imports_no_framework_adapter() -> None:
    result = run(
        "import sys, tokenpath.resource\n"
        "print(sorted({'fastapi', 'flask', 'django'} & set(sys.modules)))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("framework", ["fastapi", "flask", "django"])
def test_an_adapter_without_its_framework_names_the_extra(framework: str) -> None:
    result = run(
        f"import sys; sys.modules[{framework!r}] = None\nimport tokenpath.resource.{framework}"
    )
    assert result.returncode != 0
    assert f"pip install 'tokenpath[{framework}]'" in result.stderr
