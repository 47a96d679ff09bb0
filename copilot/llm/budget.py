"""Fit a skill's prompt into the model's context window, measured with tiktoken.

The budget is `settings.context_window - settings.reply_tokens`. The prompt is
measured as the server will see it: the system and skill messages after
`outgoing` (the privacy redaction), OpenAI's per-message overhead, and the
draft's JSON schema (sent as response_format or as a tool's parameters).

When it does not fit, in this order until it does:

1. the lowest-ranked passages are left out (lowest retrieval score first, the
   later-retrieved first among equals), keeping at least `MIN_PASSAGES`;
2. the task input (the user's text) is cut, down to `MIN_TEXT_TOKENS`;
3. the deal is cut, down to `MIN_TEXT_TOKENS`;
4. the remaining passages are left out.

If even that does not fit (a context set far too small for the skill's
instructions and schema), `PromptTooLargeError` says so and the runner shows
the offline answer. Every cut is reported in a "truncated" notice (both
languages) saying what was left out or cut, and how much was kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.index.models import Hit
from copilot.llm.usage import count_prompt_tokens
from copilot.prompts import number_passages, render_prompt
from copilot.results import Notice
from copilot.settings import Settings
from copilot.text.limits import cut_to_tokens
from copilot.text.tokens import count_tokens
from copilot.wording import Wording

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

MIN_PASSAGES = 2
MIN_TEXT_TOKENS = 256
CUT_MARK = " […]"
_MARGIN_TOKENS = 4  # a cut's boundary may re-tokenise a little differently


class PromptTooLargeError(Exception):
    """The skill's prompt does not fit the model's context even with every passage left out and the texts cut."""

    def __init__(self, tokens: int, budget: int, settings: Settings) -> None:
        super().__init__(f"prompt of {tokens} tokens, budget {budget}")
        self.tokens = tokens
        self.budget = budget
        self.context = settings.context_window

    def message(self, lang: str) -> str:
        return Wording("budget", "zh" if lang == "zh" else "en")(
            "too_large", context=f"{self.context:,}", tokens=f"{self.tokens:,}", budget=f"{self.budget:,}"
        )


@dataclass
class FittedPrompt:
    messages: list[BaseMessage]
    by_id: dict[str, Hit]
    tokens: int
    budget: int
    dropped_passages: int = 0
    cuts: dict[str, tuple[int, int]] = field(default_factory=dict)
    """variable -> (tokens kept, tokens before the cut)."""

    def notice(self, settings: Settings) -> Notice | None:
        """A "truncated" notice in both languages, or None when nothing was cut."""
        if not self.dropped_passages and not self.cuts:
            return None
        return Notice(kind="truncated", message=f"{self._notice('zh', settings)} / {self._notice('en', settings)}")

    def _notice(self, lang: str, settings: Settings) -> str:
        say = Wording("budget", lang)
        parts: list[str] = []
        if self.dropped_passages:
            parts.append(say("dropped", count=self.dropped_passages))
        for variable, (kept, before) in self.cuts.items():
            what = say(f"what.{variable}") if say.has(f"what.{variable}") else variable
            parts.append(say("cut", what=what, kept=f"{kept:,}", before=f"{before:,}"))
        cuts = ("；" if lang == "zh" else "; ").join(parts)
        return say("truncated", context=f"{settings.context_window:,}", reply=f"{settings.reply_tokens:,}", cuts=cuts)


def build_messages(skill: str, lang: str, variables: Mapping[str, Any]) -> list[BaseMessage]:
    """The system message and the skill's message, rendered from prompts/."""
    from langchain_core.messages import HumanMessage, SystemMessage

    system = render_prompt("system", lang, {"language": variables["language"]})
    return [SystemMessage(content=system), HumanMessage(content=render_prompt(skill, lang, variables))]


def _same(text: str) -> str:
    return text


def fit_prompt(
    skill: str,
    lang: str,
    variables: Mapping[str, Any],
    hits: list[Hit],
    settings: Settings,
    *,
    schema_tokens: int = 0,
    outgoing: Callable[[str], str] = _same,
    reserve_tokens: int = 0,
) -> FittedPrompt:
    """The messages for `skill` with as many passages and as much text as fit the budget.

    `reserve_tokens` are kept free on top of the reply's (for a retry's follow-up message);
    `FittedPrompt.budget` is the whole prompt budget, reserve included.
    """
    encoding = settings.tokenizer_encoding
    budget = settings.context_window - settings.reply_tokens
    limit = budget - reserve_tokens
    values = dict(variables)
    keep = list(range(len(hits)))

    def render() -> FittedPrompt:
        kept = [hits[i] for i in keep]
        passages, by_id = number_passages(kept, lang)
        messages = build_messages(skill, lang, {**values, "passages": passages})
        tokens = count_prompt_tokens([outgoing(m.text) for m in messages], encoding) + schema_tokens
        return FittedPrompt(messages, by_id, tokens, budget)

    fitted = render()
    if fitted.tokens <= limit:
        return fitted
    dropped = 0
    cuts: dict[str, tuple[int, int]] = {}
    drop_order = sorted(keep, key=lambda i: (hits[i].score, -i))

    def drop_passages(floor: int) -> None:
        nonlocal fitted, dropped
        while fitted.tokens > limit and len(keep) > floor:
            excess = fitted.tokens - limit
            while excess > 0 and len(keep) > floor:
                victim = next(i for i in drop_order if i in keep)
                keep.remove(victim)
                dropped += 1
                excess -= count_tokens(outgoing(hits[victim].text), encoding) + 8  # text, title, id, blank line
            fitted = render()

    def cut_text(name: str) -> None:
        nonlocal fitted
        value = values.get(name)
        if not isinstance(value, str) or not value:
            return
        original = count_tokens(value, encoding)
        kept = original
        while fitted.tokens > limit:
            target = max(MIN_TEXT_TOKENS, kept - (fitted.tokens - limit) - _MARGIN_TOKENS)
            if target >= kept:
                return
            cut = cut_to_tokens(value, target, encoding)
            if cut.kept_tokens >= kept:
                return
            kept = cut.kept_tokens
            values[name] = cut.text + CUT_MARK
            cuts[name] = (kept, original)
            fitted = render()

    drop_passages(MIN_PASSAGES)
    cut_text("task_input")
    cut_text("deal")
    drop_passages(0)
    if fitted.tokens > limit:
        raise PromptTooLargeError(fitted.tokens, limit, settings)
    fitted.dropped_passages = dropped
    fitted.cuts = cuts
    return fitted
