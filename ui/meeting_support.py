"""Shared by the Practice and Recap tabs: the deal as YAML text, read with the deal file's one-line errors."""

from __future__ import annotations

from pathlib import Path

import yaml

from copilot.corpus.yaml_lines import YamlSyntaxError, compose, construct
from copilot.deal import Deal, DealError, deal_from_data

EXAMPLE_DEAL = Path(__file__).resolve().parent.parent / "evals" / "datasets" / "roleplay" / "deal-zh.yaml"


def example_deal_yaml() -> str:
    return EXAMPLE_DEAL.read_text(encoding="utf-8") if EXAMPLE_DEAL.is_file() else "scenario: traceability\n"


def deal_from_yaml(text: str) -> Deal:
    """The deal written in `text` (YAML), or DealError naming the line or field."""
    try:
        node = compose(text or "")
        data = None if node is None else construct(node)
    except YamlSyntaxError as exc:
        raise DealError(f"deal:{exc.line}: {exc.message}") from exc
    return deal_from_data(data, "deal")


def deal_yaml(data: dict[str, object]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def problem_md(message: str) -> str:
    return "⚠ " + "\n\n".join(f"`{line}`" for line in message.splitlines())
