"""The deal context every skill works from.

A deal is what the rep knows about the customer: who they are, the scenario and
region, who sits at the table, their pains and goals (with the buyer's own
numbers where they gave any), their systems, constraints and the stage. It is
loaded from YAML/JSON (`--deal FILE`), or built from CLI flags and the UI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from copilot.text.lang import detect_language
from copilot.vocabulary import Language, RegionKey, ScenarioKey

Stage = Literal["discovery", "proposal", "negotiation", "closing"]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
MAX_ITEMS = 30
MAX_DEAL_FILE_BYTES = 1_000_000


class DealError(ValueError):
    """A deal file or value is invalid; the message names the file, line or field."""


class Constraints(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: ShortText | None = None
    timeline: ShortText | None = None


class Deal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: ShortText = "the customer"
    industry: ShortText | None = None
    scenario: ScenarioKey
    region: RegionKey = "cn"
    language: Language | None = None
    audience: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    pains: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    goals: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    systems: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    constraints: Constraints = Field(default_factory=Constraints)
    stage: Stage = "discovery"

    @model_validator(mode="after")
    def _detect_language(self) -> Deal:
        if self.language is None:
            text = " ".join([self.customer, self.industry or "", *self.audience, *self.pains, *self.goals])
            object.__setattr__(self, "language", detect_language(text, default="zh"))
        return self

    @property
    def lang(self) -> str:
        return self.language or "zh"

    def text(self) -> str:
        """The deal's own words, for retrieval queries and number checks."""
        parts = [self.customer, self.industry or "", *self.audience, *self.pains, *self.goals, *self.systems]
        parts += [self.constraints.budget or "", self.constraints.timeline or ""]
        return "\n".join(p for p in parts if p)


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "deal"


def deal_from_data(data: Any, origin: str = "deal") -> Deal:
    if not isinstance(data, dict):
        raise DealError(f"{origin}: a deal must be a mapping of fields, got {type(data).__name__}")
    try:
        return Deal.model_validate(data)
    except ValidationError as exc:
        messages = []
        for err in exc.errors():
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            messages.append(f"{origin}: {_field_path(tuple(err['loc']))}: {msg}")
        raise DealError("\n".join(messages)) from exc


def load_deal(path: Path) -> Deal:
    """Load a deal from a .yaml/.yml/.json file; every problem names the file and field (and line for syntax)."""
    if not path.is_file():
        raise DealError(f"{path}: file not found")
    if path.stat().st_size > MAX_DEAL_FILE_BYTES:
        raise DealError(f"{path}: too large for a deal file ({path.stat().st_size:,} bytes)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DealError(f"{path}: not valid UTF-8 (offset {exc.start})") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise DealError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise DealError(f"{path}:{line}: invalid YAML: {exc.problem}") from exc
    return deal_from_data(data, str(path))
