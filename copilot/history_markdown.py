"""A stored conversation as Markdown (`nego ui`'s export): messages in order, unfinished replies marked,
sources and feedback listed. Labels come from prompts/offline/{zh,en}/history.yaml, shown in both languages."""

from __future__ import annotations

from copilot.history_models import ConversationDetail
from copilot.wording import Wording


def _label(key: str) -> str:
    """The label at `key` in Chinese and English: "创建 / Created"."""
    return " / ".join(Wording("history", lang)(key) for lang in ("zh", "en"))


def conversation_markdown(detail: ConversationDetail) -> str:
    """A conversation as Markdown: messages in order, unfinished replies marked, sources and feedback listed."""
    conv = detail.conversation
    lines = [
        f"# {conv.title}",
        "",
        f"- {_label('created')}: {conv.created_at}",
        f"- {_label('updated')}: {conv.updated_at}",
    ]
    if conv.deal:
        deal = ", ".join(f"{k}: {v}" for k, v in conv.deal.items() if v not in (None, "", [], {}))
        lines.append(f"- {_label('deal')}: {deal}")
    for message in detail.messages:
        lines += ["", f"## {_label(message.role)}", "", message.content.strip() or f"_（{_label('empty')}）_"]
        if message.status != "complete":
            lines += ["", f"> ⚠ {_label(f'status.{message.status}')}"]
        if message.citations:
            lines += ["", f"{_label('sources')}:"]
            for n, citation in enumerate(message.citations, 1):
                links = "; ".join(f"[{s.title}]({s.url})" for s in citation.sources)
                lines.append(f"- [{n}] {citation.title} ({citation.type})" + (f" — {links}" if links else ""))
        if message.feedback is not None:
            thumbs = {1: "👍", -1: "👎", None: ""}[message.feedback.rating]
            comment = f" {message.feedback.comment}" if message.feedback.comment else ""
            lines += ["", f"{_label('feedback')}: {thumbs}{comment}".rstrip()]
    return "\n".join(lines) + "\n"
