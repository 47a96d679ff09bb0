"""A knowledge-base note from a form: the rep writes a title, a text and where it comes from; the
front matter (id, type, titles, scenarios, regions, sources, date) is written for them, then the note
is validated and indexed like any corpus file (copilot.library.add_document)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

_SLUG = re.compile(r"[^a-z0-9]+")


def note_id(title: str, text: str, today: dt.date | None = None) -> str:
    day = (today or dt.date.today()).strftime("%Y%m%d")
    words = _SLUG.sub("-", title.lower()).strip("-")[:30].strip("-")
    digest = hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()[:8]
    return "-".join(p for p in ("method-note", words, day, digest) if p)


def _quoted(text: str) -> str:
    return json.dumps(text.strip(), ensure_ascii=False)  # a JSON string is a valid YAML scalar


def note_markdown(
    title: str, text: str, scenario: str, region: str, source_title: str, source_url: str, today: dt.date | None = None
) -> tuple[str, str]:
    """(file name, content) of a method note holding the rep's text under both language sections."""
    doc_id = note_id(title, text, today)
    day = (today or dt.date.today()).isoformat()
    body = text.strip()
    front = "\n".join(
        [
            "---",
            f"id: {doc_id}",
            "type: method",
            f"title_zh: {_quoted(title)}",
            f"title_en: {_quoted(title)}",
            f"scenarios: [{scenario}]",
            f"regions: [{region}]",
            "sources:",
            f"  - title: {_quoted(source_title or title)}",
            f"    url: {_quoted(source_url)}",
            f"updated: {day}",
            "---",
        ]
    )
    content = f"{front}\n\n## 中文\n\n### {title.strip()}\n{body}\n\n## English\n\n### {title.strip()}\n{body}\n"
    return f"{doc_id}.md", content
