"""The fence around the vulnerable clients: ``tokenpath serve`` cannot reach them.

``serve``'s app has no lab route, no setting mentions the lab's insecure modes, and importing
what ``serve`` runs loads no ``tokenpath.lab`` module (``tests/test_layering.py`` pins the
import rule; this checks the running shape)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.routing import Mount, Route

from tokenpath.settings import Settings
from tokenpath.web.app import create_app


def _paths(routes: list[object], prefix: str = "") -> list[str]:
    found: list[str] = []
    for route in routes:
        if isinstance(route, Mount):
            found.append(prefix + route.path)
            found += _paths(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            found.append(prefix + route.path)
    return found


def test_the_served_app_has_no_attack_or_insecure_route(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, allow_implicit=True)  # even the weakest settings
    paths = _paths(list(create_app(settings).routes))
    assert paths and "/authorize" in paths
    assert not [p for p in paths if "attack" in p or "insecure" in p or "advisor" in p]


@pytest.mark.anyio
async def test_the_served_app_answers_404_under_attacks(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for path in ("/attacks/", "/attacks/insecure/naive/", "/attacks/insecure/no-state/"):
            assert (await client.get(path)).status_code == 404


def test_no_setting_names_the_lab_or_an_insecure_mode() -> None:
    names = set(Settings.model_fields)
    assert names
    assert not {n for n in names if "insecure" in n or "lab" in n or "attack" in n}


def test_serving_loads_no_lab_module() -> None:
    code = (
        "import sys, tokenpath.cli, tokenpath.web.app, tokenpath.demo;"
        "print(sorted(m for m in sys.modules if m.startswith('tokenpath.lab')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
