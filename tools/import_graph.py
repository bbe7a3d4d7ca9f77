"""The import graph of `src/tipline`: its circles, its imports that climb back up, its long files.

Run `python tools/import_graph.py` to print them (tests/test_import_graph.py asserts there is no circle).
Every `import` statement counts, wherever it stands (a function body's import is still a dependency, only a
later one); circles are listed without and with the imports under `if TYPE_CHECKING:` (which never run, but
still tie two modules' meaning together). A module that imports `tipline.a.b`
depends on `tipline.a.b` (or on the package `tipline.a` when `b` is a name defined in it).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src"
LONG_FILE_LINES = 500


def modules(root: Path = SOURCE) -> dict[str, Path]:
    """Every module under `root/tipline`, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted((root / "tipline").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(tree: ast.AST, typing: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if not typing and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), typing)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node, typing)


def graph(root: Path = SOURCE, *, typing: bool = False) -> dict[str, set[str]]:
    """Module → the project's modules it imports (with `typing`, also those only a type checker reads)."""
    known = modules(root)
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), typing):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def climbing_imports(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of a module from one of the packages that contain it (`tipline.a.b` importing `tipline.a`)."""
    return sorted((source, target) for source, targets in edges.items() for target in targets
                  if source.startswith(target + ".") and target != "tipline")


def long_files(root: Path = SOURCE, limit: int = LONG_FILE_LINES) -> list[tuple[int, str]]:
    counted = [(len(path.read_text(encoding="utf-8").splitlines()), str(path.relative_to(root)))
               for path in modules(root).values()]
    return sorted((lines, path) for lines, path in counted if lines > limit)


def main() -> None:
    edges = graph()
    print(f"{len(edges)} modules, {sum(len(t) for t in edges.values())} imports between them")
    for typing in (False, True):
        found = circles(graph(typing=typing))
        print(f"{len(found)} import circle(s) {'counting' if typing else 'not counting'} `if TYPE_CHECKING:` imports:")
        for component in found:
            print("  " + " <-> ".join(component))
    climbing = climbing_imports(edges)
    print(f"{len(climbing)} import(s) that climb back up to a containing package:")
    for source, target in climbing:
        print(f"  {source} -> {target}")
    long = long_files()
    print(f"{len(long)} file(s) over {LONG_FILE_LINES} lines:")
    for lines, path in long:
        print(f"  {lines:5d} {path}")


if __name__ == "__main__":
    main()
