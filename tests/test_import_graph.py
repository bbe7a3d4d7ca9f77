"""The package's import graph has no circle: each module can be read (and imported) after the ones it
uses. tools/import_graph.py prints the graph's circles, climbing imports and long files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

TOOL = Path(__file__).resolve().parent.parent / "tools" / "import_graph.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_circle_even_counting_type_checking_imports() -> None:
    tool = _tool()
    assert tool.circles(tool.graph(typing=True)) == []


def test_the_graph_sees_a_circle_when_there_is_one(tmp_path: Path) -> None:
    package = tmp_path / "tipline"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from tipline import b\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tipline.a import f\n")
    (package / "c.py").write_text("import tipline.a\n")
    tool = _tool()
    assert tool.circles(tool.graph(tmp_path)) == []
    assert tool.circles(tool.graph(tmp_path, typing=True)) == [["tipline.a", "tipline.b"]]
