"""The concern taxonomy (prompts/taxonomy/concerns.yaml): what a buyer's objection is really about.

One entry per class of the objection classifier: its label and description in both languages, the
question back, the risk categories that answer it and the response angle (coaching for the rep).
It is data, edited without code; a malformed file is an error naming the file and entry.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from copilot import paths


class _Text(BaseModel):
    model_config = ConfigDict(frozen=True)

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Concern(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str
    label: _Text
    description: _Text
    question_back: _Text
    risk_categories: list[str]
    response_angle: _Text


class TaxonomyError(ValueError):
    """The concern taxonomy file is missing or malformed."""


def taxonomy_path() -> Path:
    return paths.prompts_dir() / "taxonomy" / "concerns.yaml"


@cache
def _load(path: Path) -> dict[str, Concern]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path}: cannot read the concern taxonomy: {exc}") from exc
    out: dict[str, Concern] = {}
    for n, entry in enumerate((data or {}).get("concerns", []), 1):
        try:
            concern = Concern.model_validate(entry)
        except ValidationError as exc:
            raise TaxonomyError(f"{path}: concerns[{n}]: {exc.errors()[0]['msg']}") from exc
        out[concern.key] = concern
    if not out:
        raise TaxonomyError(f"{path}: no concerns listed")
    return out


def concerns() -> dict[str, Concern]:
    """Every concern of the taxonomy, by key, in the file's order."""
    return _load(taxonomy_path())
