"""The lab is part of ``tokenpath demo`` only: ``serve`` has no lab route and no vulnerable mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from starlette.routing import Mount, Route

from tokenpath.settings import Settings
from tokenpath.web.app import create_app

LAB_PATHS = ("/runs", "/compare", "/attacks", "/advisor", "/lab")


def _paths(routes: list[object]) -> list[str]:
    found = []
    for route in routes:
        if isinstance(route, Route | Mount):
            found.append(route.path)
    return found


def test_the_served_app_has_no_lab_routes(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    paths = _paths(list(app.routes))
    assert paths and not [p for p in paths if p.startswith(LAB_PATHS)]


def test_serve_never_loads_the_lab_and_no_setting_names_it() -> None:
    probe = (
        "import sys, tokenpath.cli, tokenpath.cli.serve, tokenpath.web.app, tokenpath.settings;"
        "print(sorted(m for m in sys.modules if m.startswith('tokenpath.lab')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"
    names = set(Settings.model_fields)
    assert not [n for n in names if "lab" in n or "insecure" in n or "attack" in n]
