"""Rep-only notes (what not to claim, unverified facts, coaching), shown apart from what the buyer sees."""

from __future__ import annotations

from collections.abc import Sequence

REP_MARK = "⚠"


def rep_notes_block(notes: Sequence[str], heading: str) -> str:
    """The notes as their own marked box: a Markdown quote under a marked heading, never inline text."""
    return f"> **{REP_MARK} {heading}**\n" + "\n".join(f"> - {n}" for n in notes)


def unique(notes: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(n for n in notes if n.strip()))


def split_rep_only(text: str, markers: Sequence[str], lang: str) -> tuple[str, list[str]]:
    """`text` without its sentences meant for the rep only (those holding a marker), and those sentences.

    Corpus answers sometimes carry coaching inline ("注意：…不要说…", "(do not quote …)"); the markers
    are wording data (prompts/offline/<lang>/objection.yaml: rep_only_markers), editable without code.
    """
    from copilot.text.chunking import split_sentences

    lowered = [m.lower() for m in markers]
    kept: list[str] = []
    notes: list[str] = []
    for sentence in split_sentences(text):
        (notes if any(m in sentence.lower() for m in lowered) else kept).append(sentence)
    return ("" if lang == "zh" else " ").join(kept), notes
