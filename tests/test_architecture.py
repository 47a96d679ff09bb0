"""Layering rules: the core never imports the UI or gradio; langchain/openai live only behind copilot/llm/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "copilot"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_never_imports_ui_or_gradio() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for name in imported_modules(path):
            root = name.split(".")[0]
            if root in {"ui", "gradio", "gradio_client", "nego", "evals"}:
                offenders.append(f"{path.relative_to(CORE.parent)} imports {name}")
    assert offenders == []


def test_model_libraries_only_behind_the_model_interface() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        if "llm" in path.relative_to(CORE).parts:
            continue
        for name in imported_modules(path):
            if name.split(".")[0] in {"langchain", "langchain_core", "langchain_openai", "openai"}:
                offenders.append(f"{path.relative_to(CORE.parent)} imports {name}")
    assert offenders == []


def test_importing_the_core_loads_no_ui_libraries() -> None:
    code = (
        "import sys, copilot.core, copilot.knowledge, copilot.index.retriever;"
        "bad = [m for m in ('gradio', 'ui', 'langchain_openai', 'openai') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == ""


NEGO = CORE.parent / "nego"


def nego_graph() -> dict[str, set[str]]:
    """Module -> the nego modules it imports (at any depth of the file, lazily imported ones included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(NEGO.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "nego":
                found.update(f"nego.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nego."):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("nego."))
        graph[f"nego.{path.stem}"] = found
    return graph


def test_the_cli_has_no_import_circle_and_command_modules_share_one_base() -> None:
    graph = nego_graph()
    assert graph["nego.base"] == set(), "the base depends on no command module"
    for module in ("nego.eval_cli", "nego.ui_cli"):
        assert graph[module] <= {"nego.base"}, f"{module} imports {graph[module]}"
    # No cycle anywhere (depth-first search over the import graph).
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, set()):
            assert state.get(nxt) != 1, f"import circle: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])
