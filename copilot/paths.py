"""Where the project's shipped data lives: prompts/ and corpus/.

In a source checkout they sit beside the package; in a built wheel they are
bundled inside it (copilot/_bundled/). This module is the one place that knows.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_ROOT = _PACKAGE_DIR.parent
_BUNDLED = _PACKAGE_DIR / "_bundled"


def _shipped(name: str) -> Path:
    checkout = _CHECKOUT_ROOT / name
    if checkout.is_dir():
        return checkout
    return _BUNDLED / name


def corpus_dir() -> Path:
    """The shipped knowledge corpus."""
    return _shipped("corpus")


def prompts_dir() -> Path:
    """The shipped prompt templates."""
    return _shipped("prompts")


def checkout_root() -> Path | None:
    """The source checkout's root, or None when running from an installed wheel."""
    return _CHECKOUT_ROOT if (_CHECKOUT_ROOT / "pyproject.toml").is_file() else None


def datasets_dir() -> Path:
    """Labelled datasets (evals/datasets): the understanding classifiers learn from them and are evaluated on them.

    The `evals` package sits beside `copilot` both in a checkout and in an installed wheel.
    """
    return _CHECKOUT_ROOT / "evals" / "datasets"


def understanding_dir() -> Path:
    """The labelled example sets of copilot.understand (one JSONL file per classifier)."""
    return datasets_dir() / "understanding"
