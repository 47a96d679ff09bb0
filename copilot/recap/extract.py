"""Recap extraction: meeting-note clauses sorted into decisions, pains, goals, constraints, objections,
commitments (owner, action, due), open questions and the next meeting, each with a confidence.

Cues, hedge words, due-date patterns, titles and the patterns that find people are data
(copilot/recap/data/cues.yaml). The concern of an objection comes from the shared classifier. A hedged
value (大概, maybe, around…) is never a constraint, pain or goal of the updated deal: it is kept as a hedged
value and an open question.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from copilot.deal import Deal
from copilot.knowledge import KnowledgeBase
from copilot.recap.models import CUED, FIRM, HEDGED, Commitment, HedgedValue, Item, RaisedObjection, Stakeholder
from copilot.recap.notes import Clause, read_notes
from copilot.text.numbers import find_dates, find_figures
from copilot.text.segment import tokenize

CUES = Path(__file__).resolve().parent / "data" / "cues.yaml"
ORDER = ("next_meeting", "open_question", "objection", "commitment", "constraint", "decision", "goal", "pain")
QUESTION_KINDS = ("objection", "open_question", "next_meeting", "commitment")
"""A clause ending in a question mark is one of these, or nothing."""
SHORT_PIECE = 6
"""A comma piece this short (\"预算的话\", \"先说结论\") joins the piece after it."""
_QUESTION = re.compile(r"[?？]\s*$")
VALUE_KINDS = ("constraint", "goal", "pain")
REPEAT_OVERLAP = 0.6
"""A pain/goal/constraint sharing this share of an existing deal item's words is a repeat, not new."""
_NAME_ROLE = re.compile(r"^(?P<name>[^（(]{1,30}?)\s*[（(](?P<role>[^）)]{1,40})[）)]$")


@cache
def cues() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CUES.read_text(encoding="utf-8"))
    return data


@cache
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(cues()["patterns"][name])


@cache
def _patterns(name: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in cues()["patterns"][name])


def _words(section: str, lang: str | None = None) -> list[str]:
    value = cues()[section]
    if isinstance(value, dict) and lang is not None:
        return [str(v).lower() for v in value.get(lang, [])]
    return [str(v).lower() for v in value]


def _all(section: str) -> list[str]:
    return _words(section, "zh") + _words(section, "en")


def hedged(text: str) -> bool:
    lowered = f" {text.lower()} "
    return any((f" {w} " in lowered if w.isascii() else w in lowered) for w in _all("hedges"))


def _has(text: str, words: list[str]) -> bool:
    lowered = f" {text.lower()} "
    return any((f" {w}" in lowered if w.isascii() and w[0].isalpha() else w in lowered) for w in words)


def _section_kind(name: str | None) -> str | None:
    if not name:
        return None
    lowered = name.lower().strip("*:： ")
    for kind, words in cues()["headings"].items():
        if any(lowered == w.lower() or (not w.isascii() and w in lowered) for w in words):
            return str(kind)
    return None


def category(clause: Clause) -> str | None:
    if _has(clause.text, _all("ignore")):
        return None
    weak: str | None = None
    for hint in (_section_kind(clause.label), _section_kind(clause.section)):
        if hint is not None and hint not in cues()["weak_headings"]:
            return hint
        weak = weak or hint
    question = bool(_QUESTION.search(clause.text))
    for kind in ORDER:
        if kind == "next_meeting" and _has(clause.text, _all("no_meeting")):
            continue
        if kind == "commitment" and _has(clause.text[:24], _all("speech_lead")):
            continue  # "Mette asked who…", "孙经理问…": reported speech, not a promise
        if question and kind not in QUESTION_KINDS:
            continue
        if _has(clause.text, cues_for(kind)):
            return kind
    if not question and _due(clause.text) and (clause.speaker or _pattern("first_person").search(clause.text)):
        return "commitment"  # "我们下周五前出确权流程": a date and someone to do it
    return None if question else weak


def cues_for(kind: str) -> list[str]:
    entry = cues()["categories"][kind]
    return [str(v).lower() for v in entry["zh"] + entry["en"]]


def _due(text: str) -> str | None:
    for pattern in cues()["due"]:
        found = re.search(pattern, text)
        if found:
            return found.group(0)
    return None


def _leading_owner(text: str, names: list[str]) -> str | None:
    for filler in _all("fillers"):
        if text.lower().startswith(filler + " ") or (not filler.isascii() and text.startswith(filler)):
            text = text[len(filler) :].lstrip(" ，,")
    lowered = text.lower()
    for word in sorted(_all("owners"), key=len, reverse=True):
        if lowered.startswith(word) and (not word.isascii() or lowered[len(word) : len(word) + 1] in (" ", "'", "")):
            return text[: len(word)]
    for name in sorted(names, key=len, reverse=True):
        if text.startswith(name):
            return name
    lead = _pattern("lead_owner").match(text)
    return lead.group("owner") if lead else None


def commitment(clause: Clause, names: list[str]) -> Commitment:
    text = clause.text
    owner: str | None = None
    for part in re.split(r"[，,]", text):
        owner = _leading_owner(part.strip(), names)
        if owner:
            break
    label = clause.label or ""
    if owner is None and label and _section_kind(label) is None and not _has(label, _all("speech")):
        owner = label
    first_person = owner is not None and owner.lower() in cues()["self_owners"]
    if clause.speaker and (first_person or (owner is None and _pattern("first_person").search(text))):
        owner = clause.speaker.split("-")[-1].split("（")[0].strip()
    return Commitment(text=text, owner=owner, action=text, due=_due(text), confidence=CUED, line=clause.line)


def stakeholders(clauses: list[Clause], lang: str) -> list[Stakeholder]:
    found: dict[str, Stakeholder] = {}
    titles = sorted(_words("titles", "zh") + _words("titles", "en"), key=len, reverse=True)
    possessive = cues()["possessive"]

    def add(name: str, role: str | None, line: int) -> None:
        name = name.strip(" ：:，,。")
        if name and len(name) <= 30 and name.lower() not in cues()["not_people"] and name not in found:
            found[name] = Stakeholder(name=name, role=(role or "").strip(" ：:，,") or None, line=line)

    seen_speakers: set[str] = set()
    for c in clauses:
        if c.speaker and c.speaker not in seen_speakers:
            seen_speakers.add(c.speaker)
            m = _NAME_ROLE.match(c.speaker)
            if m and not c.speaker.startswith(tuple(cues()["not_people_speakers"])):
                add(m.group("name"), m.group("role"), c.line)
        for pattern in _patterns("named"):
            for m in pattern.finditer(c.text):
                if not _has(m.group("role"), _all("own_side")):
                    add(m.group("name"), m.group("role"), c.line)
        for pattern in _patterns("self_intro"):
            if (m := pattern.search(c.text)) is not None:
                add(m.group("name"), m.group("role"), c.line)
        if not (c.label and _has(c.label, _all("attendees"))) and not _has(c.text[:6], _all("attendees")):
            continue
        body = c.text.split("：", 1)[-1] if _has(c.text[:6], _all("attendees")) else c.text
        for part in re.split(cues()["attendee_separators"], body):
            part = part.strip()
            if not part or part.startswith(tuple(cues()["attendees_ours"])):
                if part.startswith(tuple(cues()["attendees_ours_rest"])):
                    break
                continue
            m = _NAME_ROLE.match(part)
            if m:
                add(m.group("name"), m.group("role"), c.line)
                continue
            if possessive in part:
                role, _, name = part.rpartition(possessive)
                add(name, role, c.line)
                continue
            for title in titles:
                at = part.lower().rfind(title.lower())
                if at < 0:
                    continue
                end = at + len(title)
                if end < len(part):  # 质量总监刘敏, IT经理 老周
                    add(part[end:].strip(" " + possessive), part[:end], c.line)
                elif at > 0:  # 采购部孙经理: a surname and a title, after the department
                    add(part[at - 1 :], part[: at - 1] or None, c.line)
                break
            else:
                if 1 < len(part) <= 12:
                    add(part, None, c.line)
    return list(found.values())


def _repeat(text: str, existing: list[str]) -> bool:
    words = {t for t in tokenize(text) if len(t) > 1}
    for item in existing:
        want = {t for t in tokenize(item) if len(t) > 1}
        if want and len(words & want) / len(want) >= REPEAT_OVERLAP:
            return True
    return False


def _hedge_field(text: str, kind: str) -> str:
    lowered = text.lower()
    for name, words in cues()["hedge_fields"].items():
        if any(w in lowered for w in words):
            return str(name)
    return {"pain": "pains", "goal": "goals"}.get(kind, "constraints")


def extract(kb: KnowledgeBase, deal: Deal, notes: str) -> dict[str, Any]:
    """Every recap item read from `notes`, relative to `deal` (repeats of known pains/goals are left out)."""
    clauses = read_notes(notes)
    lang = deal.lang
    people = stakeholders(clauses, lang)
    names = [p.name for p in people]
    out: dict[str, Any] = {k: [] for k in ("decisions", "pains", "goals", "constraints", "objections")}
    out |= {"commitments": [], "open_questions": [], "hedged": [], "next_meeting": None, "stakeholders": people}
    existing = {"pain": deal.pains, "goal": deal.goals, "constraint": deal.constraints.texts()}
    for whole in clauses:
        if _has(whole.text[:6], _all("attendees")) or (whole.label and _has(whole.label, _all("attendees"))):
            continue
        placed = pieces(whole)
        for c, kind in placed:
            _place(kb, c, kind, out, existing, names)
        valued = find_figures(whole.text) or find_dates(whole.text)
        if hedged(whole.text) and valued and not any(k in VALUE_KINDS for _, k in placed):
            _place(kb, whole, "constraint", out, existing, names)  # "maybe stretch to around £400k": hedged, listed
    return out


def pieces(clause: Clause) -> list[tuple[Clause, str]]:
    """A clause cut at its commas into pieces of one category each; a piece with no cue joins its neighbour."""
    heading = _section_kind(clause.label) or _section_kind(clause.section)
    if heading in cues()["weak_headings"]:
        heading = None
    own = category(replace(clause, label=None, section=None))
    if own == "next_meeting" and heading != "next_meeting":
        return [(clause, own)]  # "Let's pick that up on 4 November." under "Open point:"
    if heading is not None and heading not in cues()["split_under"]:
        return [(clause, heading)] if not _has(clause.text, _all("ignore")) else []
    groups: list[tuple[list[str], str | None]] = []
    pending: list[str] = []
    parts = clause.parts()
    for index, part in enumerate(parts):
        kind = heading or category(replace(clause, text=part, label=None))
        if kind is None or (len(part) <= SHORT_PIECE and index < len(parts) - 1 and not heading):
            pending.append(part)
            continue
        if groups and groups[-1][1] == kind and not heading and not pending:
            groups[-1][0].append(part)  # one item of one kind across its commas
            continue
        groups.append(([*pending, part], kind))
        pending = []
    if pending:
        if groups:
            groups[-1][0].extend(pending)
        else:
            return []
    return [(replace(clause, text="，".join(texts)), kind) for texts, kind in groups if kind]


def _place(
    kb: KnowledgeBase, c: Clause, kind: str, out: dict[str, Any], existing: dict[str, list[str]], names: list[str]
) -> None:
    confidence = FIRM if _section_kind(c.label) or _section_kind(c.section) else CUED
    if kind in VALUE_KINDS or (kind == "open_question" and hedged(c.text)):
        if hedged(c.text):
            field = _hedge_field(c.text, kind)
            out["hedged"].append(HedgedValue(text=c.text, field=field, confidence=HEDGED, line=c.line))
            out["open_questions"].append(Item(text=c.text, confidence=HEDGED, line=c.line))
            return
        if _repeat(c.text, existing.get(kind, [])):
            return
        out[f"{kind}s"].append(Item(text=c.text, confidence=confidence, line=c.line))
    elif kind == "decision":
        out["decisions"].append(Item(text=c.text, confidence=confidence, line=c.line))
    elif kind == "objection":
        found = kb.understanding.classify("objections", c.text)
        out["objections"].append(
            RaisedObjection(text=c.text, concern=found.label, confidence=min(confidence, found.confidence), line=c.line)
        )
    elif kind == "commitment":
        out["commitments"].append(commitment(c, names))
    elif kind == "open_question":
        out["open_questions"].append(Item(text=c.text, confidence=confidence, line=c.line))
    elif kind == "next_meeting" and out["next_meeting"] is None:
        out["next_meeting"] = Item(text=c.text, confidence=confidence, line=c.line)
