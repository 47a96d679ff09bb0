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
