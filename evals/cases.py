"""Eval datasets: skill cases and adversarial cases, validated on load.

A skills case is a deal, the skills to run on it and what the output must show
(risk categories, the regional law cited, KPI units, jargon that must not leak,
the fit verdict where it is clear, a maximum length). An adversarial case is
one hostile or broken input and the behaviour expected of the copilot (refuse,
correct, caveat, error, resist, answer, truncate).

Datasets are YAML (a mapping with `cases:` and optional `defaults:`) or JSONL
(one case per line). Every problem is reported as `path:line: field: problem`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from copilot.corpus.yaml_lines import YamlSyntaxError, compose, construct, line_of
from copilot.deal import Deal, DealError, deal_from_data
from copilot.vocabulary import Language, RiskCategory

SkillName = Literal["explain", "risks", "plan", "fit", "objection", "ask", "brief"]
SKILL_NAMES: tuple[SkillName, ...] = ("explain", "risks", "plan", "fit", "objection", "ask", "brief")
Verdict = Literal["fit", "partial", "not_fit"]
Behaviour = Literal["refuse", "correct", "caveat", "error", "resist", "answer", "truncate"]
AdversarialKind = Literal[
    "injection_user",
    "injection_document",
    "out_of_kb",
    "false_figure",
    "legal_certainty",
    "mixed_language",
    "empty_input",
    "oversized_input",
]
ADVERSARIAL_KINDS: tuple[str, ...] = AdversarialKind.__args__  # type: ignore[attr-defined]

# Upper bounds on a result's Markdown, in characters: a runaway answer (an LLM that loops, an echo of an
# oversized input) is a failure even when everything in it is true. A case can set its own.
DEFAULT_MAX_CHARS: dict[str, int] = {
    "fit": 8000,
    "explain": 8000,
    "objection": 5000,
    "ask": 6000,
    "plan": 15000,
    "risks": 32000,
    "brief": 60000,
}
MAX_OVERSIZED_CHARS = 200_000
MAX_DATASET_BYTES = 20_000_000
"""A dataset file larger than this is refused before it is read (the shipped ones are far below)."""


class DatasetError(ValueError):
    """A dataset is invalid; the message names file, line and field."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expectations(Strict):
    risk_categories: list[RiskCategory] = Field(default_factory=list, description="categories the risks must show")
    law_cited: list[str] = Field(default_factory=list, description="policy id prefixes that must be cited")
    law_not_cited: list[str] = Field(default_factory=list, description="policy id prefixes that must not be cited")
    kpi_units: list[str] = Field(default_factory=list, description="units the plan's KPIs or value metrics must use")
    jargon: list[str] = Field(default_factory=list, description="terms that must not be left unexplained")
    fit: Verdict | None = None
    max_chars: dict[SkillName, int] = Field(default_factory=dict)

    @field_validator("law_cited", "law_not_cited")
    @classmethod
    def _policy_prefix(cls, values: list[str]) -> list[str]:
        for value in values:
            if not (value.startswith("policy-") and value.endswith("-")):
                raise ValueError(f"{value!r} is not a policy id prefix like 'policy-cn-'")
        return values

    @field_validator("max_chars")
    @classmethod
    def _positive(cls, values: dict[str, int]) -> dict[str, int]:
        for skill, limit in values.items():
            if limit < 1:
                raise ValueError(f"max_chars for {skill} must be at least 1")
        return values


class SkillCase(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    deal: Deal
    skills: list[SkillName] = Field(min_length=1)
    explain: str | None = Field(default=None, description="technical text to turn into a story")
    objection: str | None = None
    question: str | None = None
    horizon_months: int | None = Field(default=None, ge=3, le=60, description="None: the deal's timeline, else 12")
    vendor: str | None = Field(default=None, description="a vendor profile (YAML), relative to evals/datasets")
    expect: Expectations = Field(default_factory=Expectations)
    note: str | None = None

    @model_validator(mode="after")
    def _inputs(self) -> SkillCase:
        if len(set(self.skills)) != len(self.skills):
            raise ValueError("skills: a skill is listed twice")
        needs = {"explain": self.explain, "objection": self.objection, "ask": self.question}
        for skill, value in needs.items():
            if skill in self.skills and not (value and value.strip()):
                raise ValueError(f"skill {skill!r} needs the field {'question' if skill == 'ask' else skill!r}")
        if self.expect.fit is not None and not {"fit", "brief"} & set(self.skills):
            raise ValueError("expect.fit needs the fit or brief skill")
        return self

    @property
    def lang(self) -> str:
        return self.deal.lang

    def vendor_path(self) -> Path:
        path = Path(self.vendor or "")
        return path if path.is_absolute() else datasets_dir() / path

    def max_chars(self, skill: str) -> int:
        return self.expect.max_chars.get(skill, DEFAULT_MAX_CHARS[skill])  # type: ignore[call-overload,no-any-return]


class AdversarialCase(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: AdversarialKind
    skill: Literal["ask", "explain", "objection"]
    input: str = ""
    repeat: int = Field(default=1, ge=1, le=10_000, description="the input is this many copies of `input`")
    deal: dict[str, Any] | None = Field(default=None, description="raw deal data; validated when the case runs")
    lang: Language = Field(description="the language the answer must be in")
    expect: Behaviour
    must_include_any: list[str] = Field(default_factory=list, description="the answer must contain one of these")
    must_not_include: list[str] = Field(default_factory=list, description="the answer must contain none of these")
    max_chars: int | None = Field(default=None, ge=1)
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AdversarialCase:
        if self.skill in ("explain", "objection") and self.deal is None:
            raise ValueError(f"skill {self.skill!r} needs a deal")
        if len(self.input) * self.repeat > MAX_OVERSIZED_CHARS:
            raise ValueError(f"input x repeat exceeds {MAX_OVERSIZED_CHARS} characters")
        if self.expect == "correct" and not self.must_include_any:
            raise ValueError("expect 'correct' needs must_include_any (the figure the sources record)")
        if self.deal is not None and self.expect != "error":
            try:
                deal_from_data(self.deal, "deal")
            except DealError as exc:
                raise ValueError(str(exc).splitlines()[0]) from exc
        return self

    @property
    def text(self) -> str:
        return self.input * self.repeat

    def parsed_deal(self) -> Deal | None:
        """The deal (raises DealError for a deal the case expects to be rejected)."""
        return deal_from_data(self.deal, f"case {self.id}: deal") if self.deal is not None else None


def dataset_sha256(path: Path) -> str:
    if path.is_dir():
        from evals.understanding import directory_sha256

        return directory_sha256(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _field(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "case"


def _validation_lines(
    exc: ValidationError, prefix: tuple[Any, ...], line_for: Any, path: Path
) -> list[tuple[int, str]]:
    problems = []
    for err in exc.errors():
        loc = (*prefix, *[p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] in ("model_type", "dict_type"):
            msg = "expected a mapping of fields"
        problems.append((line_for(loc), f"{path}:{line_for(loc)}: {_field(loc)}: {msg}"))
    return problems


def _load_yaml(path: Path, text: str, model: type[Strict]) -> list[Any]:
    try:
        root = compose(text)
    except YamlSyntaxError as exc:
        raise DatasetError(f"{path}:{exc.line}: {exc.message}") from exc
    if root is None:
        raise DatasetError(f"{path}:1: cases: the dataset is empty")
    try:
        data = construct(root)
    except YamlSyntaxError as exc:
        raise DatasetError(f"{path}:{exc.line}: {exc.message}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise DatasetError(f"{path}:1: cases: expected a mapping with a list under 'cases'")
    unknown = sorted(set(data) - {"cases", "defaults"})
    if unknown:
        raise DatasetError(f"{path}:{line_of(root, (unknown[0],))}: {unknown[0]}: unknown field")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise DatasetError(f"{path}:{line_of(root, ('defaults',))}: defaults: expected a mapping")
    cases = []
    problems: list[tuple[int, str]] = []
    for index, raw in enumerate(data["cases"]):
        merged = {**defaults, **raw} if isinstance(raw, dict) else raw
        try:
            cases.append(model.model_validate(merged))
        except ValidationError as exc:
            problems += _validation_lines(exc, ("cases", index), lambda loc: line_of(root, loc), path)
    if problems:
        raise DatasetError("\n".join(message for _, message in sorted(problems)))
    return cases


def _load_jsonl(path: Path, text: str, model: type[Strict]) -> list[Any]:
    cases = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((number, f"{path}:{number}: json: {exc.msg} (column {exc.colno})"))
            continue
        except RecursionError:
            problems.append((number, f"{path}:{number}: json: nested too deeply"))
            continue
        try:
            cases.append(model.model_validate(raw))
        except ValidationError as exc:
            problems += _validation_lines(exc, (), lambda _loc, n=number: n, path)
    if problems:
        raise DatasetError("\n".join(message for _, message in sorted(problems)))
    return cases


def read_dataset_text(path: Path) -> str:
    """A dataset file's text, or DatasetError naming the file (and line) when it cannot be one."""
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder, not a dataset file")
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        size = path.stat().st_size
        if size > MAX_DATASET_BYTES:
            raise DatasetError(f"{path}: too large for a dataset: {size:,} bytes (limit {MAX_DATASET_BYTES:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from exc
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise DatasetError(f"{path}:{line}: contains NUL bytes: a binary file, not a dataset")
    return text


def _load(path: Path, model: type[Strict]) -> list[Any]:
    text = read_dataset_text(path)
    cases = _load_jsonl(path, text, model) if path.suffix == ".jsonl" else _load_yaml(path, text, model)
    if not cases:
        raise DatasetError(f"{path}:1: cases: the dataset holds no cases")
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise DatasetError(f"{path}:{_line_of_id(text, case.id)}: id: duplicate id {case.id!r}")
        seen.add(case.id)
    return cases


def _line_of_id(text: str, case_id: str) -> int:
    """The line of the second mention of `case_id` (the duplicate)."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if case_id in line]
    return hits[1] if len(hits) > 1 else (hits[0] if hits else 1)


def load_skill_cases(path: Path) -> list[SkillCase]:
    return _load(path, SkillCase)


def load_adversarial_cases(path: Path) -> list[AdversarialCase]:
    return _load(path, AdversarialCase)


def datasets_dir() -> Path:
    return Path(__file__).resolve().parent / "datasets"


def default_dataset(suite: str) -> Path:
    names = {
        "skills": "skills.yaml",
        "adversarial": "adversarial.yaml",
        "retrieval": "retrieval.jsonl",
        "understanding": "understanding",
        "negotiation": "negotiations.yaml",
        "fit": "fit_deals.yaml",
        "roleplay": "roleplay/cases.yaml",
        "recap": "recap_notes.yaml",
    }
    return datasets_dir() / names[suite]
