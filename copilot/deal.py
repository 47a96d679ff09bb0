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


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] in ("literal_error", "enum") and isinstance(err.get("input"), str | int | float | bool):
        return f"{err['msg']} (got {err['input']!r})"
    return str(err["msg"])


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
