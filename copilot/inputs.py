"""What a skill reads from the user: free text cleaned and cut, and a deal within the same token budget.

A chat message, the text to explain, an objection or a question is cleaned
(control characters, invalid code points and replacement characters removed:
copilot.text.limits) and cut to `settings.input_max_tokens` with tiktoken. The
deal's own words (customer, industry, audience, pains, goals, systems,
constraints: up to 122 items of 500 characters) get the same budget, shared
fairly: every item is kept, each cut to the same number of tokens at most, so
a long list of pains cannot push the goals out. Retrieval on a pasted document
is slow (a 60,000-character deal made a brief take 20 s) and finds nothing
better, and in LLM mode the prompt must fit the model's context.

Each clean-up or cut comes with a notice, in both languages, saying how much was kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.deal import Deal
from copilot.results import Notice
from copilot.settings import Settings
from copilot.text.limits import clean_text, cut_to_tokens, is_blank, truncation_message
from copilot.text.tokens import count_tokens
from copilot.wording import Wording

DEAL_LISTS = ("audience", "pains", "goals", "systems")
CUT_MARK = "…"


def input_name(key: str) -> tuple[str, str]:
    """What notices call one of the user's texts (`key` in prompts/offline/<lang>/inputs.yaml), in (zh, en)."""
    return Wording("inputs", "zh")(key), Wording("inputs", "en")(key)


def _both(key: str, what: tuple[str, str] | None, **numbers: str) -> str:
    """The notice at `key` in Chinese and English ("中文 / English"); `what` names the text in each."""
    texts: list[str] = []
    for lang, name in zip(("zh", "en"), what or (None, None), strict=True):
        names = {} if name is None else {"what": name}
        texts.append(Wording("inputs", lang)(key, **names, **numbers))
    return " / ".join(texts)


class EmptyInputError(ValueError):
    """A skill was given no text to work on (empty, blanks or invisible characters only)."""

    def __init__(self, what: tuple[str, str]) -> None:
        super().__init__(_both("empty", what))


class PreparedText(BaseModel):
    """A user's free text as a skill reads it, and the notices saying what was done to it."""

    model_config = ConfigDict(extra="forbid")

    text: str
    notices: list[Notice] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing visible: no text, or only blanks and invisible format characters (zero-width spaces…)."""
        return is_blank(self.text)

    def required(self, what: tuple[str, str]) -> str:
        """The text; EmptyInputError naming `what` (zh, en) if there is none."""
        if self.empty:
            raise EmptyInputError(what)
        return self.text


def prepare_text(text: str, settings: Settings, what: tuple[str, str] | None = None) -> PreparedText:
    """`text` cleaned and cut to `settings.input_max_tokens`; `what` names it in the notices (zh, en; "the message")."""
    what = what or input_name("message")
    cleaned = clean_text(text)
    notices: list[Notice] = []
    if cleaned.removed and cleaned.text:
        notices.append(Notice(kind="info", message=_both("removed", what, count=f"{cleaned.removed:,}")))
    cut = cut_to_tokens(cleaned.text, settings.input_max_tokens, settings.tokenizer_encoding)
    if cut.was_cut:
        cut = replace(cut, total_chars=len(text))  # tell the user about what they sent, not the cleaned text
        message = truncation_message(what[0], what[1], cut, settings.input_max_tokens)
        notices.append(Notice(kind="truncated", message=message))
    return PreparedText(text=cut.text, notices=notices)


def _share(counts: list[int], budget: int) -> int:
    """The largest per-item cap c with sum(min(n, c)) <= budget ("water filling")."""
    remaining, left = budget, len(counts)
    for n in sorted(counts):
        if n * left > remaining:
            return max(1, remaining // left)
        remaining -= n
        left -= 1
    return max(counts, default=0)


CONSTRAINT_LISTS = ("compliance", "data_residency", "other", "sentences")


def fit_deal(deal: Deal, settings: Settings) -> tuple[Deal, list[Notice]]:
    """`deal` with its free text cleaned and, if it exceeds `settings.input_max_tokens`, every item cut to a share."""
    data: dict[str, Any] = deal.model_dump()
    slots: list[tuple[str, int | None]] = [("customer", None)] if deal.customer else []
    slots += [("industry", None)] if deal.industry else []
    slots += [(name, i) for name in DEAL_LISTS for i in range(len(data[name]))]
    slots += [(f"constraints.{k}", None) for k in ("budget", "timeline") if data["constraints"][k]]
    slots += [(f"constraints.{k}", i) for k in CONSTRAINT_LISTS for i in range(len(data["constraints"][k]))]

    def get(slot: tuple[str, int | None]) -> str:
        name, index = slot
        holder = data["constraints"] if name.startswith("constraints.") else data
        key = name.removeprefix("constraints.")
        return str(holder[key] if index is None else holder[key][index])

    def put(slot: tuple[str, int | None], value: str) -> None:
        name, index = slot
        holder = data["constraints"] if name.startswith("constraints.") else data
        key = name.removeprefix("constraints.")
        if index is None:
            holder[key] = value
        else:
            holder[key][index] = value

    removed = 0
    for slot in slots:
        cleaned = clean_text(get(slot))
        removed += cleaned.removed
        put(slot, cleaned.text)
    encoding = settings.tokenizer_encoding
    counts = [count_tokens(get(slot), encoding) for slot in slots]
    total, budget = sum(counts), settings.input_max_tokens
    notices: list[Notice] = []
    if removed:
        notices.append(Notice(kind="info", message=_both("removed", input_name("deal"), count=f"{removed:,}")))
    if total > budget:
        cap = _share(counts, budget - len(slots))  # one token per item for the cut mark
        for slot, n in zip(slots, counts, strict=True):
            if n > cap:
                put(slot, cut_to_tokens(get(slot), cap, encoding).text + CUT_MARK)
        kept = sum(count_tokens(get(slot), encoding) for slot in slots)
        numbers = {"total": f"{total:,}", "budget": f"{budget:,}", "cap": f"{cap:,}", "kept": f"{kept:,}"}
        notices.append(Notice(kind="truncated", message=_both("deal_too_long", None, **numbers)))
    if not notices:
        return deal, []
    for name in DEAL_LISTS:
        data[name] = [item for item in data[name] if item]
    data["customer"] = data["customer"] or None
    data["industry"] = data["industry"] or None
    data["constraints"] = {k: v if isinstance(v, list) else (v or None) for k, v in data["constraints"].items()}
    return Deal.model_validate(data), notices
