"""Prompt templates: one file per skill and language (prompts/<name>.<lang>.md), rendered strictly.

Variables are written `{{ name }}`. Rendering is strict both ways: a variable the
template uses but the caller did not supply is an error, and so is a supplied
variable the template does not use (it would mean the caller and the prompt
disagree about what the model sees). Substitution is a single pass, so text
inside a value that looks like `{{ x }}` is never expanded.

Every value is data (the deal, retrieved passages, the user's text). The
templates put values inside `<data name="...">` blocks and the system prompt
tells the model that such text is data, never instructions; `render_template`
neutralises anything in a value that could close or open such a block, so user
text cannot break out of it (prompt-injection defence): `</data>`, `< / DATA >`,
and the same written with lookalike brackets, slashes or letters (＜／ｄａｔａ＞,
‹/data›, Cyrillic а) or with invisible characters inside (<\u200b/data>). A
passage line that imitates a passage header ("[C2] …") is neutralised too, so a
document cannot pose as another passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from copilot import paths
from copilot.deal import Deal
from copilot.index.models import Hit
from copilot.wording import Wording

SKILLS: tuple[str, ...] = ("explain", "risks", "plan", "fit", "objection", "ask", "brief")
SHARED: tuple[str, ...] = ("system", "retry")
LANGUAGES: tuple[str, ...] = ("zh", "en")

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Lookalikes of "<", "/" and the letters of "data", and the invisible characters that may hide between them.
_LT = "<\uff1c\ufe64\u2039\u3008\u27e8\u2329\u276e\u29fc\u1438\u02c2"
_GAP = r"[\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]*"
_SLASH = r"[/\uff0f\u2044\u2215\u29f8\\]?"
_D, _A, _T = "[dⅾｄԁᏧ]", "[aаɑαａ⍺]", "[tтｔτ]"
_DATA_TAG = re.compile(rf"[{_LT}](?={_GAP}{_SLASH}{_GAP}{_D}{_GAP}{_A}{_GAP}{_T}{_GAP}{_A}(?![a-z0-9]))", re.IGNORECASE)
_PASSAGE_HEADER = re.compile(r"^(\s*)\[(C\d+)\]", re.MULTILINE | re.IGNORECASE)


class PromptError(ValueError):
    """A prompt file is missing or does not match the variables supplied; the message names file and variable."""


def prompt_path(name: str, lang: str, prompts_dir: Path | None = None) -> Path:
    return (prompts_dir or paths.prompts_dir()) / f"{name}.{lang}.md"


def template_variables(template: str, origin: str = "template") -> list[str]:
    """The variable names a template uses, in order of first use."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1).strip()
        if not _NAME.fullmatch(name):
            raise PromptError(f"{origin}: malformed placeholder {match.group(0)!r}")
        if name not in names:
            names.append(name)
    return names


def neutralise(value: str) -> str:
    """Make `value` safe to place inside a data block: it cannot open or close one."""
    return _DATA_TAG.sub("&lt;", value)


def neutralise_passage(text: str) -> str:
    """A passage's text that cannot imitate another passage's "[C2] title" header."""
    return _PASSAGE_HEADER.sub(r"\1(\2)", text)


def render_template(template: str, variables: Mapping[str, Any], origin: str = "template") -> str:
    used = template_variables(template, origin)
    missing = [name for name in used if name not in variables]
    if missing:
        raise PromptError(f"{origin}: variable {missing[0]!r} is used but not supplied")
    extra = sorted(set(variables) - set(used))
    if extra:
        raise PromptError(f"{origin}: variable {extra[0]!r} is supplied but the template does not use it")
    return _PLACEHOLDER.sub(lambda m: neutralise(str(variables[m.group(1).strip()])), template)


def render_prompt(name: str, lang: str, variables: Mapping[str, Any], prompts_dir: Path | None = None) -> str:
    """Render prompts/<name>.<lang>.md with exactly `variables`."""
    path = prompt_path(name, lang, prompts_dir)
    try:
        template = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"{path}: prompt file not found (skill {name!r}, language {lang!r})") from exc
    return render_template(template, variables, origin=str(path)).strip() + "\n"


# -- values for the variables every skill prompt gets ---------------------------------------------
def language_name(lang: str) -> str:
    return Wording("prompt_values", lang)("language_name") if lang in LANGUAGES else lang


def deal_yaml(deal: Deal) -> str:
    """The deal as YAML, empty fields left out."""
    data = deal.model_dump(mode="json", exclude_none=True)
    data = {k: v for k, v in data.items() if v not in ([], {}, "")}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000).strip()


def passage_id(index: int) -> str:
    """The id the model cites a passage by: C1, C2, …"""
    return f"C{index + 1}"


def number_passages(hits: Iterable[Hit], lang: str) -> tuple[str, dict[str, Hit]]:
    """The passages as numbered text ([C1] title, then text) and the map from id to passage."""
    by_id: dict[str, Hit] = {}
    blocks: list[str] = []
    for i, hit in enumerate(hits):
        pid = passage_id(i)
        by_id[pid] = hit
        blocks.append(f"[{pid}] {hit.title(lang)} ({hit.doc_id})\n{neutralise_passage(hit.text.strip())}")
    if not blocks:
        return Wording("prompt_values", lang if lang in LANGUAGES else "en")("no_passages"), by_id
    return "\n\n".join(blocks), by_id
