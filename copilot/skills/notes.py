"""Rep-only notes (what not to claim, unverified facts, coaching), shown apart from what the buyer sees."""

from __future__ import annotations

from collections.abc import Sequence

REP_MARK = "⚠"


def rep_notes_block(notes: Sequence[str], heading: str) -> str:
    """The notes as their own marked box: a Markdown quote under a marked heading, never inline text."""
    return f"> **{REP_MARK} {heading}**\n" + "\n".join(f"> - {n}" for n in notes)


def unique(notes: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(n for n in notes if n.strip()))
