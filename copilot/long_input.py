"""Long input, handled one way everywhere (chat message, deal panel, brief form).

What is too long is cut, never refused; the user is told in their language what was kept and why,
and offered to use the rest as a knowledge-base note or as meeting notes for a recap. The rest is
returned to the caller so the UI can offer exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

from copilot.results import Notice
from copilot.wording import Wording

FIELD_MAX_CHARS = 500
"""A deal item's limit (copilot.deal.ShortText)."""


@dataclass(frozen=True)
class LongInput:
    kept: str
    rest: str
    notice: Notice | None


def long_input_notice(notice: Notice, original: str, kept: str, lang: str) -> Notice:
    """A cut notice (bilingual, from copilot.inputs) said in `lang`, with what was kept, why, and the options."""
    if notice.kind != "truncated" or len(kept) >= len(original):
        return notice
    message = Wording("chat", lang)(
        "long_input", total=f"{len(original):,}", kept=f"{len(kept):,}", rest=f"{len(original) - len(kept):,}"
    )
    return Notice(kind="truncated", message=message)


def message_notice(original: str, kept: str, lang: str) -> LongInput:
    """A chat message cut to `kept`: the rest and the notice (None when nothing was cut)."""
    if len(kept) >= len(original.strip()):
        return LongInput(kept, "", None)
    rest = original[len(kept) :] if original.startswith(kept) else original
    message = Wording("chat", lang)(
        "long_input", total=f"{len(original):,}", kept=f"{len(kept):,}", rest=f"{len(rest):,}"
    )
    return LongInput(kept, rest.strip(), Notice(kind="truncated", message=message))


def cut_item(text: str, field: str, item: int, lang: str, limit: int = FIELD_MAX_CHARS) -> LongInput:
    """One deal item (a pain, a goal…) within `limit` characters; `field` is its label in `lang`."""
    text = text.strip()
    if len(text) <= limit:
        return LongInput(text, "", None)
    cut = text[:limit]
    for mark in ("。", "；", ". ", "; ", "，", ", ", " "):
        at = cut.rfind(mark)
        if at > limit // 2:
            cut = cut[: at + len(mark)].strip()
            break
    message = Wording("chat", lang)(
        "long_field", field=field, item=item, total=f"{len(text):,}", kept=f"{len(cut):,}", limit=limit
    )
    return LongInput(cut, text[len(cut) :].strip(), Notice(kind="truncated", message=message))
