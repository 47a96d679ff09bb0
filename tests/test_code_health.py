"""Code health (the team's style guide, issue 14): every module of the product stays within 400 lines.

A module over the limit is split along a real seam (a module with one job and a name that says what
it holds), not trimmed by squeezing lines.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("copilot", "nego", "ui", "evals")
MAX_LINES = 400


def line_counts() -> dict[str, int]:
    """Lines of every Python module in the product's packages, by path relative to the repository."""
    return {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_the_packages_are_where_the_test_looks() -> None:
    counts = line_counts()
    for package in PACKAGES:
        assert any(name.startswith(f"{package}/") for name in counts), f"no module found under {package}/"
    assert "copilot/core.py" in counts and "nego/cli.py" in counts


def test_every_module_is_at_most_400_lines() -> None:
    over = {name: n for name, n in line_counts().items() if n > MAX_LINES}
    assert over == {}, f"modules over {MAX_LINES} lines (split each along a real seam): {over}"
