"""The requested form, obeyed offline: a result's text cut to N sentences, N bullets, a length.

A rep who asks "Explain PBFT to a CFO in two sentences" gets two sentences, not several screens.
The skill composes its full result (citations, checks and notices unchanged); this step reshapes
only the text shown: headings, source lists and quotes are left out, prose and list items are
split into sentences, and the first ones (or the ones the caller ranks first) are kept within the
requested count or length. Nothing is added, so every kept sentence is one the skill wrote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml

from copilot.request import RequestedForm

_SENTENCE_END = re.compile(r"(?<=[。！？!?；])|(?<=[.!?])\s+(?=[A-Z0-9“\"(\[])")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)、]|[（(]?\d+[)）])\s+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_UNIT_CHARS = 4
DATA = Path(__file__).resolve().parent / "data" / "shaping.yaml"


@cache
def _sources_heading() -> re.Pattern[str]:
    """A heading that opens a list of sources (data/shaping.yaml)."""
    return re.compile(yaml.safe_load(DATA.read_text(encoding="utf-8"))["sources_heading"], re.IGNORECASE)


def units(text: str) -> tuple[list[str], list[str]]:
    """(prose sentences, list items) of a Markdown answer, without headings, sources and quotes."""
    sentences: list[str] = []
    items: list[str] = []
    in_sources = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            in_sources = bool(_sources_heading().match(line))
            continue
        if in_sources or line.startswith(">") or line.startswith("|") or line.startswith("```"):
            continue
        plain = line.replace("**", "").replace("__", "")
        is_item = bool(_LIST_MARK.match(plain))
        plain = _LIST_MARK.sub("", plain).strip()
        if len(plain) < MIN_UNIT_CHARS:
            continue
        if is_item and not plain.endswith((":", "：")):
            items.append(plain)
        sentences += [
            s.strip()
            for s in _SENTENCE_END.split(plain)
            if s and len(s.strip()) >= MIN_UNIT_CHARS and not s.rstrip().endswith((":", "："))
        ]
    return sentences, items


def _length(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


def _words(text: str) -> int:
    """Words of English text; a Chinese character counts as a word (the same budget reads the same)."""
    return len(_CJK.findall(text)) + len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’-]*", _CJK.sub(" ", text)))


def _within(chosen: list[str], candidate: str, form: RequestedForm) -> bool:
    trial = [*chosen, candidate]
    if form.max_chars is not None and sum(_length(s) for s in trial) > form.max_chars:
        return False
    return not (form.max_words is not None and sum(_words(s) for s in trial) > form.max_words)


def _cut(sentence: str, form: RequestedForm) -> str:
    """One sentence longer than the whole budget, cut at a word or character boundary with '…'."""
    if form.max_chars is not None and _length(sentence) > form.max_chars:
        return sentence[: max(form.max_chars - 1, 1)].rstrip() + "…"
    if form.max_words is not None and _words(sentence) > form.max_words:
        if _CJK.search(sentence):
            return sentence[: max(form.max_words - 1, 1)] + "…"
        return " ".join(sentence.split()[: form.max_words]) + "…"
    return sentence


def shape(text: str, form: RequestedForm, lead: Sequence[str] = ()) -> str:
    """`text` in the requested form; unchanged when the form asks for no count or length.

    `lead` are sentences the caller ranks first (e.g. an explanation's "what changes" and "proof"
    before its "today"); the rest follow in the text's order.
    """
    if not form.shapes_text():
        return text
    sentences, items = units(text)
    ranked = list(dict.fromkeys([*(s for u in lead for s in units(u)[0]), *sentences]))
    if form.bullets is not None:
        pool = list(dict.fromkeys([*(s for u in lead for s in units(u)[0]), *items])) if items else ranked
        chosen: list[str] = []
        for unit in pool:
            if len(chosen) >= form.bullets:
                break
            if _within(chosen, unit, form):
                chosen.append(unit)
        chosen = chosen or [_cut(pool[0], form)] if pool else []
        return "\n".join(f"- {c}" for c in chosen) if chosen else text
    limit = form.sentences if form.sentences is not None else len(ranked)
    chosen = []
    for sentence in ranked:
        if len(chosen) >= limit:
            break
        if _within(chosen, sentence, form):
            chosen.append(sentence)
        elif not chosen:
            chosen.append(_cut(sentence, form))
            break
        else:
            break
    if not chosen:
        return text
    joiner = "" if _CJK.search("".join(chosen)) else " "
    return joiner.join(chosen)
