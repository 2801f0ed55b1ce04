"""Every import in a source tree, read with ``ast`` (nothing is imported or executed).

Shared by the layering rules and the import-cycle check. Module-level, function-level and
``if TYPE_CHECKING:`` imports all count: a lazy import is still a dependency, and a type-only
one still ties the two modules together for a reader and for the type checker.

``from package import name`` is an import of ``package.name`` when that is a module in the tree
(``from tokenpath.cli import db``), and of ``package`` otherwise (``from tokenpath import
__version__``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Import", "module_name", "modules", "resolve", "walk"]


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted and absolute
    line: int
    function: str | None  # the enclosing function, None at module level


def module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(src: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file, for every module of ``package`` under ``src``."""
    return {module_name(src, p): p for p in sorted((src / package).rglob("*.py"))}


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The absolute name(s) an ``ImportFrom`` in ``module`` refers to (relative ones too)."""
    if node.level == 0:
        base = node.module or ""
    else:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    if node.module is None:  # from . import a, b: each name may be a module
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: frozenset[str]) -> None:
        self.module = module
        self.is_package = is_package
        self.known = known
        self.functions: list[str] = []
        self.found: list[Import] = []

    def _add(self, target: str, node: ast.AST) -> None:
        function = self.functions[-1] if self.functions else None
        imported = Import(self.module, target, getattr(node, "lineno", 0), function)
        if imported not in self.found:
            self.found.append(imported)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for base in resolve(self.module, self.is_package, node):
            if node.module is None:
                self._add(base, node)
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                self._add(submodule if submodule in self.known else base, node)


def walk(src: Path, package: str) -> list[Import]:
    """Every import in every module of ``package`` under ``src``, in file order."""
    files = modules(src, package)
    known = frozenset(files)
    found: list[Import] = []
    for module, path in files.items():
        collector = _Collector(module, path.name == "__init__.py", known)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += collector.found
    return found
