"""No two modules of ``src/tokenpath`` depend on each other, however indirectly.

A cycle hides at run time when one side imports lazily (inside a function) or only for types,
but it still means neither module can be read, tested or moved without the other; the CLI and
the demo once imported each other that way. So every import counts here: module level, function
level and ``if TYPE_CHECKING:``.

What is *not* an edge: the implicit import of a parent package. ``tokenpath.cli.db`` importing
its sibling ``tokenpath.cli.base`` makes Python run ``tokenpath/cli/__init__.py`` first, and that
``__init__`` imports ``tokenpath.cli.db`` to register the command. That is load order, not a
dependency: ``base`` never imports the package, so whichever module is loaded first, each one
finishes with every name it needs. Only the imports written in a module are edges; a submodule
that imports its own package (``from tokenpath.web import x`` inside ``tokenpath.web.app``)
writes the edge and is caught.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

from tests.support.imports import Import, walk

SRC = Path(__file__).resolve().parents[1] / "src"

Graph = dict[str, dict[str, Import]]  # module -> imported module -> the first such import


def graph(imports: list[Import], package: str) -> Graph:
    """Edges between modules of ``package`` (imports of anything else are not edges)."""
    modules = {i.module for i in imports}
    edges: Graph = defaultdict(dict)
    for i in imports:
        if i.target in modules and i.target != i.module:
            edges[i.module].setdefault(i.target, i)
    return {m: edges.get(m, {}) for m in modules if m.split(".")[0] == package}


def _components(edges: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _shortest_cycle(edges: Graph, members: list[str]) -> list[Import]:
    """One shortest cycle through the first member, as the imports that close it."""
    start, inside = members[0], set(members)
    came_from: dict[str, Import] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target, imported in sorted(edges[node].items()):
            if target == start:
                path = [imported]
                while path[0].module != start:
                    path.insert(0, came_from[path[0].module])
                return path
            if target in inside and target not in came_from:
                came_from[target] = imported
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")  # Tarjan said there is one


def cycles(edges: Graph) -> list[list[Import]]:
    return [_shortest_cycle(edges, members) for members in _components(edges)]


def show(cycle: list[Import]) -> str:
    def where(i: Import) -> str:
        return f"{i.module}:{i.line}" + (f" (in {i.function})" if i.function else "")

    return " -> ".join([*(where(i) for i in cycle), cycle[0].module])


def test_the_walk_sees_the_package() -> None:
    """Guards the check below: an empty graph has no cycle either."""
    edges = graph(walk(SRC, "tokenpath"), "tokenpath")
    assert len(edges) > 50
    assert "tokenpath.core.context" in edges["tokenpath.runtime"]


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(graph(walk(SRC, "tokenpath"), "tokenpath"))
    assert not found, "import cycles:\n" + "\n".join(show(c) for c in found)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_lazy_import_back_is_a_cycle(tmp_path: Path) -> None:
    """The shape the CLI and the demo once had: a module-level import one way, a function-level
    one back."""
    src = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "cli.py": "from pkg.demo import run\n",
            "demo.py": "def run():\n    from pkg.cli import load\n",
        },
    )
    found = cycles(graph(walk(src, "pkg"), "pkg"))
    assert [show(c) for c in found] == ["pkg.cli:1 -> pkg.demo:2 (in run) -> pkg.cli"]


def test_type_only_and_indirect_cycles_are_found(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "from pkg.c import x\n",
            "c.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.a import y\n",
            "d.py": "from pkg import a\n",  # depends on the cycle, is not part of it
        },
    )
    found = cycles(graph(walk(src, "pkg"), "pkg"))
    assert [show(c) for c in found] == ["pkg.a:1 -> pkg.b:1 -> pkg.c:3 -> pkg.a"]


def test_a_package_registering_its_submodules_is_not_a_cycle(tmp_path: Path) -> None:
    """``__init__`` imports the commands; the commands import a sibling, not the package."""
    src = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "cli/__init__.py": "from pkg.cli import db\nfrom pkg.cli.base import Group\n",
            "cli/base.py": "Group = object\n",
            "cli/db.py": "from pkg.cli.base import Group\n",
        },
    )
    assert cycles(graph(walk(src, "pkg"), "pkg")) == []
    src = _tree(tmp_path, {"cli/db.py": "from pkg.cli import Group\n"})  # now db needs __init__
    found = cycles(graph(walk(src, "pkg"), "pkg"))
    assert [show(c) for c in found] == ["pkg.cli:1 -> pkg.cli.db:1 -> pkg.cli"]
