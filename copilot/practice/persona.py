"""Buyer personas for role-play: data files prompts/personas/<key>.yaml (zh/en), loaded and validated here."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot import paths

FollowUpKind = Literal["jargon", "no_proof", "vague_value", "good_answer"]


class PersonaError(ValueError):
    """A persona is unknown or its file is invalid; the message names the file and field."""


class Bi(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class PersonaObjection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    concern: str
    text: Bi


class FollowUps(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jargon: list[Bi] = Field(min_length=1)
    no_proof: list[Bi] = Field(min_length=1)
    vague_value: list[Bi] = Field(min_length=1)
    good_answer: list[Bi] = Field(min_length=1)

    def of(self, kind: FollowUpKind) -> list[Bi]:
        return list(getattr(self, kind))


class ClosingLines(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    positive: list[Bi] = Field(min_length=1)
    negative: list[Bi] = Field(min_length=1)


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: Bi
    who: Bi
    goals: list[Bi] = Field(min_length=1)
    concerns: list[str] = Field(min_length=1)
    opening_lines: list[Bi] = Field(min_length=1)
    objections: list[PersonaObjection] = Field(min_length=1)
    follow_ups: FollowUps
    convinced_by: list[Bi] = Field(min_length=1)
    closing_lines: ClosingLines

    def text(self, lang: str) -> str:
        """Every line the persona can say in `lang` (its figures may be repeated by the buyer)."""
        parts = [self.title(lang), self.who(lang), *(g(lang) for g in self.goals)]
        parts += [o(lang) for o in self.opening_lines] + [o.text(lang) for o in self.objections]
        kinds: tuple[FollowUpKind, ...] = ("jargon", "no_proof", "vague_value", "good_answer")
        for kind in kinds:
            parts += [f(lang) for f in self.follow_ups.of(kind)]
        parts += [c(lang) for c in self.convinced_by]
        parts += [c(lang) for c in self.closing_lines.positive + self.closing_lines.negative]
        return "\n".join(parts)


def personas_dir() -> Path:
    return paths.prompts_dir() / "personas"


def persona_keys(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or personas_dir()).glob("*.yaml"))


@cache
def _load(path: Path) -> Persona:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PersonaError(f"{path}{line}: invalid YAML") from exc
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "persona"
        raise PersonaError(f"{path}: {where}: {err['msg']}") from exc


def load_persona(key: str, directory: Path | None = None) -> Persona:
    """The persona `key` (a file name under prompts/personas), or PersonaError listing the known ones."""
    folder = directory or personas_dir()
    path = folder / f"{key}.yaml"
    if not key.replace("_", "").isalnum() or not path.is_file():
        known = ", ".join(persona_keys(folder))
        raise PersonaError(f"unknown persona {key!r}; choose one of: {known}")
    return _load(path)
