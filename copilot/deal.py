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

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from copilot.corpus.yaml_lines import YamlSyntaxError, compose, construct
from copilot.text.lang import detect_language
from copilot.vocabulary import Language, RegionKey, ScenarioKey

Stage = Literal["discovery", "proposal", "negotiation", "closing"]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
MAX_ITEMS = 30
MAX_DEAL_FILE_BYTES = 1_000_000
MAX_SHOWN_PROBLEMS = 10
"""A deal with more problems than this lists the first ones and a count: a pasted dump is not read line by line."""
SUFFIXES = (".yaml", ".yml", ".json")


class DealError(ValueError):
    """A deal file or value is invalid; the message names the file, line or field."""


ConstraintKind = Literal["budget", "timeline", "compliance", "data_residency", "other"]
CONSTRAINT_KINDS: tuple[str, ...] = ("budget", "timeline", "compliance", "data_residency", "other")
ChainType = Literal["consortium", "public", "permissioned"]
Level = Literal["low", "medium", "high"]


class Constraints(BaseModel):
    """The deal's constraints as the rep wrote them.

    Accepted forms: a list of free-text sentences (`["预算300万元以内", "must comply with DORA"]`), a
    mapping by kind (`{budget: ..., timeline: ..., compliance: [...], data_residency: [...],
    other: [...]}`), or a list mixing sentences and one-key mappings. Sentences whose kind the rep did
    not say are kept in `sentences`; copilot.reading classifies them. Nothing here is inferred.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: ShortText | None = None
    timeline: ShortText | None = None
    compliance: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    data_residency: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    other: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    sentences: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"sentences": [data]}
        if isinstance(data, dict):
            return {k: (_as_text(v) if k in ("budget", "timeline") else _as_list(v)) for k, v in data.items()}
        if not isinstance(data, list):
            return data
        merged: dict[str, Any] = {"sentences": []}
        for item in data:
            if isinstance(item, dict):
                for key, value in item.items():
                    if key in ("budget", "timeline"):
                        merged[key] = _as_text(value)
                    else:
                        merged.setdefault(key, [])
                        if isinstance(merged[key], list):
                            merged[key] = [*merged[key], *_as_list(value)]
            else:
                merged["sentences"].append(_as_text(item))
        return merged

    def declared(self) -> list[tuple[str, ConstraintKind | None]]:
        """Every constraint text with the kind the rep gave it (None: a sentence to classify), in order."""
        out: list[tuple[str, ConstraintKind | None]] = []
        out += [(self.budget, "budget")] if self.budget else []
        out += [(self.timeline, "timeline")] if self.timeline else []
        out += [(t, "compliance") for t in self.compliance]
        out += [(t, "data_residency") for t in self.data_residency]
        out += [(t, "other") for t in self.other]
        out += [(t, None) for t in self.sentences]
        return out

    def texts(self) -> list[str]:
        return [text for text, _ in self.declared()]


def _as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _as_list(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [_as_text(value)]
    return value


class NegotiationIssue(BaseModel):
    """One negotiable term: our target and walk-away, and which direction is better for us."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    unit: ShortText
    target: float
    walk_away: float
    better: Literal["up", "down"]
    their_position: float | None = None
    priority: int = Field(default=3, ge=1, le=5, description="how much this issue matters to us (5 = most)")
    their_priority: int | None = Field(default=None, ge=1, le=5, description="how much it matters to them")

    @model_validator(mode="after")
    def _walk_away_side(self) -> NegotiationIssue:
        if self.better == "up" and self.walk_away > self.target:
            raise ValueError(
                f"walk_away {self.walk_away:g} is above the target {self.target:g}: with better: up "
                "the walk-away is the lowest value we accept, so it must be ≤ the target"
            )
        if self.better == "down" and self.walk_away < self.target:
            raise ValueError(
                f"walk_away {self.walk_away:g} is below the target {self.target:g}: with better: down "
                "the walk-away is the highest value we accept, so it must be ≥ the target"
            )
        return self


class Tradeable(BaseModel):
    """Something we can give in exchange for something we get."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    give: ShortText
    get: ShortText
    cost_to_us: Level
    value_to_them: Level


class Negotiation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    issues: list[NegotiationIssue] = Field(default_factory=list, max_length=MAX_ITEMS)
    tradeables: list[Tradeable] = Field(default_factory=list, max_length=MAX_ITEMS)
    alternative: ShortText | None = Field(default=None, description="what we do if there is no deal (our BATNA)")

    @model_validator(mode="after")
    def _unique_names(self) -> Negotiation:
        seen: set[str] = set()
        for issue in self.issues:
            if issue.name.lower() in seen:
                raise ValueError(f"issue {issue.name!r} is listed twice")
            seen.add(issue.name.lower())
        return self


class Deal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: ShortText | None = Field(default=None, description="the customer's name; None when the rep gave none")
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
    chain_type: ChainType | None = Field(
        default=None, description="set when the deal fixes it; otherwise it follows the scenario (copilot.reading)"
    )
    negotiation: Negotiation | None = None

    @model_validator(mode="after")
    def _detect_language(self) -> Deal:
        if self.language is None:
            text = " ".join([self.customer or "", self.industry or "", *self.audience, *self.pains, *self.goals])
            object.__setattr__(self, "language", detect_language(text, default="zh"))
        return self

    @property
    def lang(self) -> str:
        return self.language or "zh"

    def who(self, lang: str | None = None) -> str:
        """The customer's name, or the generic way to say "the customer" in `lang` (never stored)."""
        if self.customer:
            return self.customer
        from copilot.wording import Wording

        return Wording("deal", lang or self.lang)("generic_customer")

    def text(self) -> str:
        """The deal's own words, for retrieval queries and number checks."""
        parts = [self.customer, self.industry or "", *self.audience, *self.pains, *self.goals, *self.systems]
        parts += self.constraints.texts()
        return "\n".join(p for p in parts if p)


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "deal"


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] in ("literal_error", "enum") and isinstance(err.get("input"), str | int | float | bool):
        return f"{err['msg']} (got {err['input']!r})"
    return str(err["msg"]).removeprefix("Value error, ")


def deal_from_data(data: Any, origin: str = "deal") -> Deal:
    if data is None:
        raise DealError(f"{origin}: the deal is empty: give at least `scenario:`")
    if not isinstance(data, dict):
        raise DealError(f"{origin}: a deal must be a mapping of fields, got {_kind(data)}")
    try:
        return Deal.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        messages = [f"{origin}: {_field_path(tuple(e['loc']))}: {_message(e)}" for e in errors[:MAX_SHOWN_PROBLEMS]]
        if len(errors) > MAX_SHOWN_PROBLEMS:
            messages.append(f"{origin}: … and {len(errors) - MAX_SHOWN_PROBLEMS} more problem(s)")
        raise DealError("\n".join(messages)) from exc


def _kind(data: Any) -> str:
    names = {str: "a text", list: "a list", int: "a number", float: "a number", bool: "true/false"}
    return names.get(type(data), type(data).__name__)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise DealError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
    except ValueError as exc:  # a duplicate key
        raise DealError(f"{path}: invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise DealError(f"{path}: invalid JSON: nested too deeply") from exc


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        node = compose(text)
        return None if node is None else construct(node)
    except YamlSyntaxError as exc:
        raise DealError(f"{path}:{exc.line}: {exc.message}") from exc


def read_deal_text(path: Path) -> str:
    """The text of a deal file, or DealError saying why it is not one (missing, a folder, too big, binary…)."""
    if path.is_dir():
        raise DealError(f"{path}: is a folder, not a deal file")
    if not path.is_file():
        raise DealError(f"{path}: file not found")
    if path.suffix.lower() not in SUFFIXES:
        raise DealError(f"{path}: not a deal file: the name must end in {', '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > MAX_DEAL_FILE_BYTES:
            raise DealError(f"{path}: too large for a deal file: {size:,} bytes (limit {MAX_DEAL_FILE_BYTES:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise DealError(f"{path}: cannot read: {exc.strerror}") from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DealError(f"{path}:1: the file is UTF-16: save it as UTF-8")
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise DealError(f"{path}:{line}: contains NUL bytes: a binary file, not a deal")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DealError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}): save it as UTF-8"
        ) from exc
    if not text.strip():
        raise DealError(f"{path}: the file is empty: a deal needs at least `scenario:`")
    return text


def load_deal(path: Path) -> Deal:
    """Load a deal from a .yaml/.yml/.json file; every problem names the file and field (and line for syntax)."""
    text = read_deal_text(path)
    data = _parse_json(path, text) if path.suffix.lower() == ".json" else _parse_yaml(path, text)
    return deal_from_data(data, str(path))
