"""Text from the model or the corpus, made safe and readable for Gradio's Markdown components.

Nothing the copilot or the corpus produces is rendered as HTML: `<`, `>` and `&`
are escaped (the Markdown still renders), images become plain text (an image
link in a reply would make the browser fetch a URL: the classic way to leak
data out of a chat), and only http(s) links stay links.
"""

from __future__ import annotations

import html
import re
from typing import Any

from copilot.corpus.models import Source
from copilot.results import Citation, Notice
from ui.labels import ui_text

DOC_TYPE_KEYS = ("case", "policy", "glossary", "risk", "playbook", "method")
"""Document types with a label in ui.yaml (`type.<key>`)."""
_UNSAFE_LINK = re.compile(r"\]\(\s*(?!https?://|#cite-\d)")
_NOTICE_ICONS = {
    "fallback": "↩",
    "redaction": "🔒",
    "truncated": "✂",
    "validation": "⚠",
    "no_knowledge": "∅",
    "info": "ℹ",
}


def safe_md(text: str) -> str:
    """Escape HTML, neutralise images and non-http(s) links; the Markdown itself still renders."""
    escaped = html.escape(text, quote=False)
    escaped = escaped.replace("![", "!\\[")
    return _UNSAFE_LINK.sub("]\\(", escaped)


def _link_text(text: str) -> str:
    return safe_md(text).replace("[", "\\[").replace("]", "\\]")


def _url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def source_links(sources: list[Source]) -> str:
    return " · ".join(f"[{_link_text(s.title)}]({_url(s.url)})" for s in sources if s.url.startswith("http"))


def type_label(doc_type: str, lang: str) -> str:
    return ui_text(lang, f"type.{doc_type}") if doc_type in DOC_TYPE_KEYS else doc_type


def quote_block(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in safe_md(text.strip()).splitlines())


def citation_message(number: int, citation: Citation, lang: str) -> dict[str, Any]:
    """A collapsed chat message for one citation: title and type in its header, source links and quote inside."""
    header = f"[{number}] {html.escape(citation.title, quote=False)} · {type_label(citation.type, lang)}"
    label = ui_text(lang, "kb.sources")
    links = source_links(citation.sources)
    body = (f"{label}: {links}\n\n" if links else "") + quote_block(citation.quote)
    return {"role": "assistant", "content": body, "metadata": {"title": header, "status": "done"}}


_SOURCES_HEADING = re.compile(r"^(#{1,6})\s*(?:来源|出处|sources?|references?)\s*$", re.IGNORECASE)
_MARKER = re.compile(r"\\?\[(\d{1,2})\\?\](?!\()")


def without_sources(text: str) -> str:
    """A reply without its own list of sources: the chat shows each citation once, as a block under it."""
    out: list[str] = []
    skipping: int | None = None
    for line in text.splitlines():
        heading = re.match(r"^(#{1,6})\s", line)
        if skipping is not None:
            if heading and len(heading.group(1)) <= skipping:
                skipping = None
            else:
                continue
        found = _SOURCES_HEADING.match(line.strip())
        if found:
            skipping = len(found.group(1))
            continue
        out.append(line)
    return "\n".join(out).rstrip()


def unique_citations(citations: list[Citation]) -> list[Citation]:
    """One citation per document (the first passage cited from it), in order."""
    seen: set[str] = set()
    out = []
    for citation in citations:
        if citation.doc_id not in seen:
            seen.add(citation.doc_id)
            out.append(citation)
    return out


def linked_markers(md: str, count: int) -> str:
    """`[n]` markers (already escaped Markdown) as links to citation n (ui/chat.py opens and scrolls to it)."""

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[\\[{n}\\]](#cite-{n})" if 1 <= n <= count else match.group(0)

    return _MARKER.sub(link, md)


def notices_md(notices: list[Notice]) -> str:
    return "\n".join(f"- {_NOTICE_ICONS.get(n.kind, 'ℹ')} **{n.kind}** · {safe_md(n.message)}" for n in notices)
