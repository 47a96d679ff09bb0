"""`Copilot`: the core's public API, used by the CLI, the UI and the evals.

Each skill call gets a fresh `Grounding` (retrieval happens on every call and
every chat turn), computes the offline result first (cheap and deterministic;
it is also the fallback), and in LLM mode asks the model for the same typed
result, grounded in the same passages and held to the same validators.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.results import (
    AnyResult,
    AskResult,
    BriefResult,
    Citation,
    ExplainResult,
    FitResult,
    Notice,
    ObjectionResult,
    PlanResult,
    RisksResult,
    SkillResult,
    Usage,
)
from copilot.router import Route, route
from copilot.settings import Settings
from copilot.skills.ask import ask_offline, render_ask
from copilot.skills.brief import brief_offline, render_brief
from copilot.skills.explain import explain_offline, render_explain
from copilot.skills.fit import fit_offline, render_fit
from copilot.skills.objection import objection_offline, render_objection
from copilot.skills.plan import plan_offline, render_plan
from copilot.skills.risks import render_risks, risks_offline
from copilot.text.lang import detect_language
from copilot.text.tokens import count_tokens
from copilot.validators import check_jargon, validate

R = TypeVar("R", bound=SkillResult)
STREAM_PIECE_CHARS = 24
MAX_MESSAGE_CHARS = 8000


class ChatTurn(BaseModel):
    """One message of a conversation's history."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class ChatEvent(BaseModel):
    """What `Copilot.chat` yields: the UI and the REPL render these as they arrive."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["route", "text", "citations", "notice", "result", "done"]
    skill: Route | None = None
    text: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    notice: Notice | None = None
    result: Any = None


class Copilot:
    def __init__(
        self, settings: Settings, kb: KnowledgeBase, model: Any | None = None, notices: Sequence[Notice] = ()
    ) -> None:
        self.settings = settings
        self.kb = kb
        self.model = model
        self.notices = list(notices)

    @classmethod
    def open(cls, settings: Settings, kb: KnowledgeBase | None = None) -> Copilot:
        """The copilot for `settings`: LLM mode when a provider is configured, else offline.

        A provider that cannot be used (e.g. no API key) does not stop the copilot: it runs
        offline and every result carries a notice saying why.
        """
        kb = kb or KnowledgeBase.open(settings)
        if settings.provider == "offline":
            return cls(settings, kb)
        from copilot.llm.errors import ModelConfigError
        from copilot.llm.model import get_chat_model

        try:
            return cls(settings, kb, get_chat_model(settings))
        except ModelConfigError as exc:
            notice = Notice(kind="fallback", message=f"{exc} — offline answers shown / 已改用离线模式")
            return cls(settings, kb, None, [notice])

    @property
    def mode(self) -> Literal["offline", "llm"]:
        return "llm" if self.model is not None else "offline"

    def reload_knowledge(self, store: Any | None = None) -> None:
        """Re-open the knowledge base after the corpus or the index changed (e.g. a document was added).

        The new knowledge base replaces the old one in one assignment: a request already running keeps
        the one it started with.
        """
        self.kb = KnowledgeBase.open(self.settings, store)

    # -- plumbing ---------------------------------------------------------------------------------
    def _run(
        self,
        skill: str,
        deal: Deal | None,
        lang: str,
        input_text: str,
        compose: Callable[[Grounding], R],
        render: Callable[[R], str],
        task_input: str = "",
    ) -> R:
        """The offline result; in LLM mode the model's, grounded in the same passages, or the offline one."""
        started = time.perf_counter()
        grounding = Grounding(self.kb, lang, input_text + "\n" + (deal.text() if deal else ""))
        offline = compose(grounding)
        offline = offline.model_copy(update={"mode": "offline", "notices": [*self.notices, *offline.notices]})
        if self.model is None:
            usage = Usage(
                completion_tokens=count_tokens(offline.text, self.settings.tokenizer_encoding),
                latency_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            return offline.model_copy(update={"usage": usage})
        from copilot.llm.runner import run_llm_skill
        from copilot.prompts import deal_yaml

        result = run_llm_skill(
            self.model,
            skill=skill,
            lang=lang,
            variables={"deal": deal_yaml(deal) if deal else "", "task_input": task_input},
            result_cls=type(offline),
            grounding=grounding,
            offline_result=offline,
            render=render,
            validate_fn=lambda r: self._problems(r, grounding),
            settings=self.settings,
        )
        usage = result.usage.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 1)})
        return result.model_copy(update={"usage": usage})

    def _problems(self, result: SkillResult, grounding: Grounding) -> list[str]:
        """The validators every result must pass (the same ones the evals report)."""
        cited = "\n".join(grounding.hits[c.chunk_id].text for c in result.citations if c.chunk_id in grounding.hits)
        problems = validate(result, retrieved=set(grounding.hits), input_text=grounding.input_text, cited_text=cited)
        if isinstance(result, ExplainResult):
            problems += check_jargon(result, self.kb)
        return problems

    @staticmethod
    def _in(deal: Deal, lang: str | None) -> Deal:
        return deal if lang is None or lang == deal.lang else deal.model_copy(update={"language": lang})

    # -- skills -----------------------------------------------------------------------------------
    def explain(self, deal: Deal, text: str, lang: str | None = None) -> ExplainResult:
        deal = self._in(deal, lang)
        return self._run(
            "explain",
            deal,
            deal.lang,
            text,
            lambda g: explain_offline(self.kb, g, deal, text, deal.lang),
            lambda r: render_explain(r, deal),
            task_input=text,
        )

    def risks(self, deal: Deal, lang: str | None = None) -> RisksResult:
        deal = self._in(deal, lang)
        return self._run(
            "risks",
            deal,
            deal.lang,
            "",
            lambda g: risks_offline(self.kb, g, deal),
            lambda r: render_risks(r, deal, set(), []),
        )

    def plan(self, deal: Deal, horizon_months: int = 12, lang: str | None = None) -> PlanResult:
        deal = self._in(deal, lang)
        return self._run(
            "plan",
            deal,
            deal.lang,
            str(horizon_months),
            lambda g: plan_offline(self.kb, g, deal, horizon_months),
            lambda r: render_plan(r, deal),
            task_input=f"horizon_months: {horizon_months}",
        )

    def fit(self, deal: Deal, lang: str | None = None) -> FitResult:
        deal = self._in(deal, lang)
        return self._run(
            "fit", deal, deal.lang, "", lambda g: fit_offline(self.kb, g, deal), lambda r: render_fit(r, deal, [])
        )

    def objection(self, deal: Deal, objection: str, lang: str | None = None) -> ObjectionResult:
        deal = self._in(deal, lang or detect_language(objection, default=deal.lang))
        return self._run(
            "objection",
            deal,
            deal.lang,
            objection,
            lambda g: objection_offline(self.kb, g, deal, objection, deal.lang),
            lambda r: render_objection(r, self.kb),
            task_input=objection,
        )

    def ask(self, question: str, deal: Deal | None = None, lang: str | None = None) -> AskResult:
        language = lang or detect_language(question, default=deal.lang if deal else self.settings.language)
        return self._run(
            "ask",
            deal,
            language,
            question,
            lambda g: ask_offline(self.kb, g, question, language, deal),
            render_ask,
            task_input=question,
        )

    def brief(self, deal: Deal, lang: str | None = None, horizon_months: int = 12) -> BriefResult:
        deal = self._in(deal, lang)
        return self._run(
            "brief",
            deal,
            deal.lang,
            str(horizon_months),
            lambda g: brief_offline(self.kb, g, deal, deal.lang, horizon_months),
            lambda r: render_brief(r, self.kb),
            task_input=f"horizon_months: {horizon_months}",
        )

    # -- chat -------------------------------------------------------------------------------------
    def chat(self, message: str, history: Sequence[ChatTurn], deal: Deal) -> Iterator[ChatEvent]:
        """Route one turn to a skill, retrieve afresh, and stream the reply as events."""
        text = message.strip()[:MAX_MESSAGE_CHARS]
        decision = route(text)
        lang = detect_language(text, default=deal.lang) if text else deal.lang
        yield ChatEvent(kind="route", skill=decision.skill)
        result = self._dispatch(decision.skill, text, history, self._in(deal, lang), lang)
        for start in range(0, len(result.text), STREAM_PIECE_CHARS):
            yield ChatEvent(kind="text", text=result.text[start : start + STREAM_PIECE_CHARS])
        yield ChatEvent(kind="citations", citations=result.citations)
        for notice in result.notices:
            yield ChatEvent(kind="notice", notice=notice)
        yield ChatEvent(kind="result", skill=decision.skill, result=result)
        yield ChatEvent(kind="done")

    def _dispatch(self, skill: Route, text: str, history: Sequence[ChatTurn], deal: Deal, lang: str) -> AnyResult:
        if skill == "brief":
            return self.brief(deal)
        if skill == "risks":
            return self.risks(deal)
        if skill == "plan":
            return self.plan(deal)
        if skill == "fit":
            return self.fit(deal)
        if skill == "objection":
            return self.objection(deal, text, lang)
        if skill == "explain":
            return self.explain(deal, text, lang)
        return self.ask(_with_context(text, history), deal, lang)


def _with_context(message: str, history: Sequence[ChatTurn]) -> str:
    """A short follow-up ("那欧盟呢？", "and in the EU?") is asked together with the previous question."""
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if previous and len(message) < 16:
        return f"{previous}\n{message}"
    return message
