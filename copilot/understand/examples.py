"""Labelled example sets: one JSONL file per classifier in evals/datasets/understanding/.

Each line is `{"id", "lang", "text", "label", ...}`; other fields (an extracted amount, the
buyer's words inside a rep's request, a requested form) are kept in `extra` for the skill that
uses them and for the eval that checks them. Problems are reported as `path:line: field: what`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot import paths
from copilot.vocabulary import Language

MAX_EXAMPLES = 20_000


class ExamplesError(ValueError):
    """A labelled example file is invalid; the message names file, line and field."""


class LabelledExample(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1, max_length=80)
    lang: Language
    text: str = Field(min_length=1, max_length=4000)
    label: str = Field(min_length=1, max_length=60)

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


def examples_path(name: str) -> Path:
    return paths.understanding_dir() / f"{name}.jsonl"


def example_files(name: str) -> list[Path]:
    """`<name>.jsonl` and its extra parts `<name>.<part>.jsonl`, in a stable order."""
    main = examples_path(name)
    return [main, *sorted(main.parent.glob(f"{name}.*.jsonl"))]


def load_examples(path: Path) -> list[LabelledExample]:
    """The examples of one file, in order; ids must be unique."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ExamplesError(f"{path}: labelled examples not found") from exc
    except UnicodeDecodeError as exc:
        raise ExamplesError(f"{path}: not valid UTF-8") from exc
    examples: list[LabelledExample] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ExamplesError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise ExamplesError(f"{path}:{number}: each line must be a JSON object")
        try:
            example = LabelledExample.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "line"
            raise ExamplesError(f"{path}:{number}: {field}: {err['msg']}") from exc
        if example.id in seen:
            raise ExamplesError(f"{path}:{number}: id: {example.id!r} already used on line {seen[example.id]}")
        seen[example.id] = number
        examples.append(example)
        if len(examples) > MAX_EXAMPLES:
            raise ExamplesError(f"{path}: more than {MAX_EXAMPLES} examples")
    if not examples:
        raise ExamplesError(f"{path}: no examples")
    return examples
