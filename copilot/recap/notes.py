"""Meeting notes as clauses: Markdown, bullets, and 飞书妙记 / 钉钉 / Zoom / Teams transcripts, read structurally.

Each clause keeps its line, the speaker (transcripts) and the section it sits under (a heading or a
"待办：" / "**Next:**" label), so the extractor can use them; nothing here decides meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "transcripts.yaml"
_TEAMS_HEADER = re.compile(r"^\d{1,2}:\d{2}:\d{2}\s+(?P<spk>[^\d].{0,60})$")
_BULLET = re.compile(r"^(?:[-*+•]\s*(?:\[[ xX]\]\s*)?|\d{1,2}[.、)]\s*|[（(]\d{1,2}[)）]\s*)")
_HEADING = re.compile(r"^#{1,6}\s*(?P<text>.+)$")
_BOLD_LABEL = re.compile(r"^\*\*(?P<label>[^*]{1,40})\*\*\s*[:：]?\s*(?P<text>.*)$")
_LABEL = re.compile(r"^(?P<label>[^：:，,。]{1,12}?)(?:[：:]|\s[–—-]\s)\s*(?P<text>.+)$")
_CLAUSE_END = re.compile(r"(?<=[。；;！？!?])|(?<=\.)\s+(?=[A-Z])")


@cache
def _speaker_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A line that starts with a numbered speaker and a time, and a speaker header line (name and time)."""
    words = yaml.safe_load(DATA.read_text(encoding="utf-8"))["speaker_words"]
    who = "|".join(re.escape(str(w)) for w in words)
    inline = re.compile(rf"^(?P<spk>(?:{who})\s*\d+)\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s+(?P<text>.+)$")
    header = re.compile(rf"^(?P<spk>(?:{who})\s*\d+|[^\d:：]{{1,40}}?)\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s*$")
    return inline, header


@dataclass(frozen=True)
class Clause:
    text: str
    line: int
    speaker: str | None
    section: str | None
    label: str | None
    raw_line: str

    def parts(self) -> list[str]:
        """The comma-separated pieces of a Chinese clause (English clauses are not split)."""
        pieces = [p.strip() for p in re.split(r"[，]", self.text) if p.strip()]
        return pieces or [self.text]


def _clauses(text: str) -> list[str]:
    return [c.strip(" \t-—*") for c in _CLAUSE_END.split(text) if c and c.strip(" \t-—*。；;")]


def read_notes(notes: str) -> list[Clause]:
    """The clauses of `notes` in order, with line, speaker, section heading and line label."""
    inline_speaker, speaker_header = _speaker_patterns()
    out: list[Clause] = []
    speaker: str | None = None
    section: str | None = None
    for number, raw in enumerate(notes.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        heading = _HEADING.match(line)
        bold = _BOLD_LABEL.match(line)
        if heading or (bold and not bold.group("text").strip()):
            section = (heading.group("text") if heading else bold.group("label") if bold else "").strip("*: ：")
            continue
        inline = inline_speaker.match(line)
        if inline:
            speaker, line = inline.group("spk"), inline.group("text")
        elif (header := speaker_header.match(line) or _TEAMS_HEADER.match(line)) is not None:
            speaker = header.group("spk").strip()
            continue
        line = _BULLET.sub("", line).strip()
        label: str | None = None
        if bold:
            label, line = bold.group("label").strip(), bold.group("text").strip()
        elif (labelled := _LABEL.match(line)) is not None:
            label, line = labelled.group("label").strip(), labelled.group("text").strip()
        for clause in _clauses(line):
            out.append(Clause(clause, number, speaker, section, label, raw.strip()))
    return out
