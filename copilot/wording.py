"""Offline wording: every sentence, heading and label the offline engine shows, kept in files.

Sales enablement edits `prompts/offline/<lang>/<name>.yaml` without touching code. A file is a
mapping of keys to a template (a string) or to variants (a list of strings); nested mappings
group keys (`heading.risks`). Templates use `{{ name }}` placeholders and render strictly: a
placeholder the caller did not supply is an error naming the file and key. Values are inserted
as they are, in one pass (text inside a value that looks like `{{ x }}` is never expanded).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from copilot import paths

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
LANGUAGES = ("zh", "en")


class WordingError(ValueError):
    """A wording file or key is missing, or a template needs a variable the caller did not give."""


def _flatten(data: Mapping[str, Any], prefix: str, origin: str) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + ".", origin))
        elif isinstance(value, str):
            out[name] = value
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[name] = list(value)
        else:
            raise WordingError(f"{origin}: {name}: must be a text, a list of texts or a mapping")
    return out


@cache
def _load(path: Path) -> dict[str, str | list[str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WordingError(f"{path}: wording file not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise WordingError(f"{path}{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, Mapping):
        raise WordingError(f"{path}: a wording file is a mapping of keys to texts")
    return _flatten(data, "", str(path))


def wording_path(name: str, lang: str, prompts_dir: Path | None = None) -> Path:
    if lang not in LANGUAGES:
        raise WordingError(f"wording: unknown language {lang!r} (zh or en)")
    return (prompts_dir or paths.prompts_dir()) / "offline" / lang / f"{name}.yaml"


def fill(template: str, variables: Mapping[str, Any], origin: str) -> str:
    """`template` with every `{{ name }}` replaced; a name missing from `variables` is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise WordingError(f"{origin}: variable {name!r} is used but not supplied")
        return str(variables[name])

    return _PLACEHOLDER.sub(value, template)


class Wording:
    """The wording of one file (`name`) in one language."""

    def __init__(self, name: str, lang: str, prompts_dir: Path | None = None) -> None:
        self.name = name
        self.lang = lang
        self.path = wording_path(name, lang, prompts_dir)
        self.entries = _load(self.path)

    def _entry(self, key: str) -> str | list[str]:
        try:
            return self.entries[key]
        except KeyError:
            raise WordingError(f"{self.path}: key {key!r} not found") from None

    def has(self, key: str) -> bool:
        return key in self.entries

    def __call__(self, key: str, **variables: Any) -> str:
        """The template at `key`, filled (a list's first variant)."""
        entry = self._entry(key)
        template = entry if isinstance(entry, str) else entry[0]
        return fill(template, variables, f"{self.path}: {key}").strip()

    def variant(self, key: str, index: int, **variables: Any) -> str:
        """Variant `index` (modulo their number) of a list entry; a string entry is its only variant."""
        entry = self._entry(key)
        options = [entry] if isinstance(entry, str) else entry
        return fill(options[index % len(options)], variables, f"{self.path}: {key}").strip()

    def all(self, key: str, **variables: Any) -> list[str]:
        """Every variant at `key`, filled."""
        entry = self._entry(key)
        options = [entry] if isinstance(entry, str) else entry
        return [fill(t, variables, f"{self.path}: {key}").strip() for t in options]


def wording(name: str, lang: str) -> Wording:
    return Wording(name, lang)
