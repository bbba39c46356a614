"""The command line's modules import each other one way: no circles (``images`` ↔ ``deep_color`` was one)."""

from __future__ import annotations

import ast
from pathlib import Path

import kdsharp.cli

CLI = Path(kdsharp.cli.__file__).parent


def _imports(path: Path) -> set[str]:
    """The ``kdsharp.cli`` modules a module imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "kdsharp.cli":
                found |= {a.name for a in node.names}
            elif node.module.startswith("kdsharp.cli."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("kdsharp.cli.")}
    return found - {path.stem}


def test_no_import_circles_among_the_cli_modules() -> None:
    graph = {p.stem: _imports(p) & {q.stem for q in CLI.glob("*.py")} for p in CLI.glob("*.py") if p.stem != "__init__"}
    assert "images" not in graph["deep_color"] and "images" not in graph["tiff"] and graph["metadata"] == set()

    def visit(node: str, path: list[str]) -> None:
        assert node not in path, f"import circle: {' -> '.join(path + [node])}"
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, path + [node])

    for start in graph:
        visit(start, [])
