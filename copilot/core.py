"""`Copilot`: the core's public API, used by the CLI, the UI and the evals.

Each skill call gets a fresh `Grounding` (retrieval happens on every call and
every chat turn), computes the offline result first (cheap and deterministic;
it is also the fallback), and in LLM mode asks the model for the same typed
result, grounded in the same passages and held to the same validators.

A user's free text (a chat message, the text to explain, an objection, a
question) and the deal's own words are cleaned and cut to
`settings.input_max_tokens` with tiktoken, in both modes (copilot.inputs):
retrieval on a whole pasted document is slow and no better. Each cut or
clean-up is reported in a notice on the result; an empty chat message gets a
message and no skill runs.

Streaming (`chat`, `stream`): offline, the finished text is sent in pieces. In LLM
mode the model's draft is sent as it writes it ("text" events, token by token over
SSE); once it is finished and checked, a "replace" event carries the answer to show
instead (the rendered result; the offline one when the draft failed its checks, with
a notice saying the streamed text was replaced).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from copilot.chat import EMPTY_MESSAGE, ChatTurn, chat_events
from copilot.deal import Deal
from copilot.inputs import PreparedText, fit_deal, input_name, prepare_text
from copilot.knowledge import KnowledgeBase
from copilot.reading.build import read_deal
from copilot.reading.model import DealReading
from copilot.reading.relevance import Relevance, Scored, candidates
from copilot.replies import ChatEvent, stream_events
from copilot.results import (
    AskResult,
    BriefResult,
    DealHealth,
    ExplainResult,
    FitResult,
    Notice,
    ObjectionResult,
    PlanResult,
    RisksResult,
    SkillResult,
)
from copilot.settings import Settings
from copilot.skill_run import R, run_skill
from copilot.skills.ask import ask_offline, render_ask
from copilot.skills.brief import brief_offline, render_brief, with_part_texts
from copilot.skills.explain import explain_offline, render_explain
from copilot.skills.fit import decision_text, fit_offline, render_fit
from copilot.skills.health import deal_health, with_health
from copilot.skills.negotiate_llm import negotiate
from copilot.skills.negotiate_model import NegotiationResult
from copilot.skills.objection import objection_offline, render_objection
from copilot.skills.plan import plan_offline, render_plan
from copilot.skills.risks import render_risks, risks_offline
from copilot.text.lang import detect_language
from copilot.text.limits import shorten
from copilot.text.tokens import count_tokens
from copilot.vendor import VendorProfile, load_vendor
from copilot.wording import Wording

READINGS_KEPT = 32
QUOTE_SHOWN_CHARS = 300
"""An answer quotes the user's question or objection up to this length: it must not echo a pasted document."""
__all__ = ["EMPTY_MESSAGE", "QUOTE_SHOWN_CHARS", "ChatEvent", "ChatTurn", "Copilot"]


class Copilot:
    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase,
        model: Any | None = None,
        notices: Sequence[Notice] = (),
        vendor: VendorProfile | None = None,
    ) -> None:
        self.settings = settings
        self.kb = kb
        self.model = model
        self.notices = list(notices)
        self.vendor = vendor
        self._readings: dict[str, DealReading] = {}

    @classmethod
    def open(cls, settings: Settings, kb: KnowledgeBase | None = None) -> Copilot:
        """The copilot for `settings`: LLM mode when a provider is configured, else offline.

        A provider that cannot be used (e.g. no API key) does not stop the copilot: it runs
        offline and every result carries a notice saying why.
        """
        kb = kb or KnowledgeBase.open(settings)
        vendor_path = settings.vendor_path
        vendor = load_vendor(vendor_path) if vendor_path is not None else None
        if settings.provider == "offline":
            return cls(settings, kb, vendor=vendor)
        from copilot.llm.errors import ModelConfigError
        from copilot.llm.model import get_chat_model

        try:
            return cls(settings, kb, get_chat_model(settings), vendor=vendor)
        except ModelConfigError as exc:
            shown = " / ".join(Wording("inputs", lang)("model_unusable") for lang in ("en", "zh"))
            notice = Notice(kind="fallback", message=f"{exc} — {shown}")
            return cls(settings, kb, None, [notice], vendor=vendor)

    def read(self, deal: Deal) -> DealReading:
        """The one typed reading of `deal` (constraints, industry, chain type, vendor and its gaps).

        The last few readings are kept: one request reads its deal once, whichever skills it runs.
        """
        key = deal.model_dump_json()
        found = self._readings.get(key)
        if found is None or found.vendor is not self.vendor:
            found = read_deal(deal, self.kb, self.vendor)
            self._readings[key] = found
            while len(self._readings) > READINGS_KEPT:
                self._readings.pop(next(iter(self._readings)))
        return found

    @property
    def mode(self) -> Literal["offline", "llm"]:
        return "llm" if self.model is not None else "offline"

    def warm_up(self) -> None:
        """Load models, dictionaries and tokenizers now rather than in the first user's request."""
        self.kb.warm_up()
        count_tokens("warm up", self.settings.tokenizer_encoding)

    def reload_knowledge(self, store: Any | None = None) -> None:
        """Re-open the knowledge base after the corpus or the index changed (e.g. a document was added).

        The new knowledge base replaces the old one in one assignment: a request already running keeps
        the one it started with.
        """
        self.kb = KnowledgeBase.open(self.settings, store)

    # -- plumbing ---------------------------------------------------------------------------------
    def choices(self, result: SkillResult, deal: Deal) -> list[Scored]:
        """Each candidate sentence `result` shows, scored against the deal with its reasons (`--explain-choices`)."""
        reading = self.read(deal.model_copy(update={"language": result.language}))
        relevance = Relevance(reading, self.kb.industries, {r.key: r for r in self.kb.regimes})
        return [relevance.score(text, kind) for kind, text in candidates(result)]

    @staticmethod
    def _quoted_short(result: R, name: str, render: Callable[[R], str]) -> R:
        """`result` with its quote of the user's text (field `name`) shortened for display, and re-rendered."""
        value = getattr(result, name)
        short = shorten(value, QUOTE_SHOWN_CHARS)
        if short == value:
            return result
        result = result.model_copy(update={name: short})
        return result.model_copy(update={"text": render(result)})

    @staticmethod
    def _in(deal: Deal, lang: str | None) -> Deal:
        return deal if lang is None or lang == deal.lang else deal.model_copy(update={"language": lang})

    def _deal(self, deal: Deal, lang: str | None) -> tuple[Deal, list[Notice]]:
        """The deal in `lang`, its free text cleaned and within the input budget, and notices saying so."""
        fitted, notices = fit_deal(deal, self.settings)
        return self._in(fitted, lang), notices

    # -- skills -----------------------------------------------------------------------------------
    def _prepare(self, text: str, what: tuple[str, str]) -> PreparedText:
        return prepare_text(text, self.settings, what)

    def explain(self, deal: Deal, text: str, lang: str | None = None) -> ExplainResult:
        deal, notices = self._deal(deal, lang)
        what = input_name("text_to_explain")
        prepared = self._prepare(text, what)
        text = prepared.required(what)
        return run_skill(
            self,
            "explain",
            deal,
            deal.lang,
            text,
            lambda g: explain_offline(self.kb, g, deal, text, deal.lang, self.vendor, self.read(deal).chain_type),
            lambda r: render_explain(r, deal),
            task_input=text,
            input_notices=[*prepared.notices, *notices],
        )

    def risks(self, deal: Deal, lang: str | None = None) -> RisksResult:
        deal, notices = self._deal(deal, lang)
        return run_skill(
            self,
            "risks",
            deal,
            deal.lang,
            "",
            lambda g: risks_offline(self.kb, g, deal, self.read(deal)),
            lambda r: render_risks(r, deal, set(), []),
            input_notices=notices,
        )

    def plan(self, deal: Deal, horizon_months: int | None = None, lang: str | None = None) -> PlanResult:
        """The plan over `horizon_months`; None: the deal's timeline sets it (else twelve months)."""
        deal, notices = self._deal(deal, lang)
        return run_skill(
            self,
            "plan",
            deal,
            deal.lang,
            str(horizon_months or ""),
            lambda g: plan_offline(self.kb, g, deal, horizon_months, self.read(deal)),
            lambda r: render_plan(r, deal),
            task_input=f"horizon_months: {horizon_months or 'the deal timeline, else 12'}",
            input_notices=notices,
        )

    def fit(self, deal: Deal, lang: str | None = None) -> FitResult:
        deal, notices = self._deal(deal, lang)
        return run_skill(
            self,
            "fit",
            deal,
            deal.lang,
            "",
            lambda g: fit_offline(self.kb, g, deal),
            lambda r: render_fit(r, deal, []),
            task_input=decision_text,
            input_notices=notices,
        )

    def objection(self, deal: Deal, objection: str, lang: str | None = None) -> ObjectionResult:
        what = input_name("objection")
        prepared = self._prepare(objection, what)
        objection = prepared.required(what)
        deal, notices = self._deal(deal, lang or detect_language(objection, default=deal.lang))
        result = run_skill(
            self,
            "objection",
            deal,
            deal.lang,
            objection,
            lambda g: objection_offline(self.kb, g, deal, objection, deal.lang),
            lambda r: render_objection(r, self.kb),
            task_input=objection,
            input_notices=[*prepared.notices, *notices],
        )
        return self._quoted_short(result, "objection", lambda r: render_objection(r, self.kb))

    def ask(self, question: str, deal: Deal | None = None, lang: str | None = None) -> AskResult:
        what = input_name("question")
        prepared = self._prepare(question, what)
        question = prepared.required(what)
        notices: list[Notice] = []
        if deal is not None:
            deal, notices = self._deal(deal, None)
        language = lang or detect_language(question, default=deal.lang if deal else self.settings.language)
        result = run_skill(
            self,
            "ask",
            deal,
            language,
            question,
            lambda g: ask_offline(self.kb, g, question, language, deal),
            render_ask,
            task_input=question,
            input_notices=[*prepared.notices, *notices],
        )
        return self._quoted_short(result, "question", render_ask)

    def brief(self, deal: Deal, lang: str | None = None, horizon_months: int | None = None) -> BriefResult:
        deal, notices = self._deal(deal, lang)
        reading = self.read(deal)
        brief = run_skill(
            self,
            "brief",
            deal,
            deal.lang,
            str(horizon_months or ""),
            lambda g: brief_offline(self.kb, g, deal, deal.lang, horizon_months, reading, self.vendor),
            lambda r: render_brief(with_part_texts(r, deal), self.kb),
            task_input=lambda r: (
                f"horizon_months: {horizon_months or 'the deal timeline, else 12'}"
                + f"\nfit decision:\n{decision_text(r.fit)}"
            ),  # the decision of the brief's own fit
            input_notices=notices,
        )
        return with_health(with_part_texts(brief, deal), self.kb, deal, lambda r: render_brief(r, self.kb))

    def health(self, deal: Deal, lang: str | None = None, notes: Sequence[str] = ()) -> DealHealth:
        """The deal-health scorecard (also in every brief); `notes`: later words, e.g. meeting recaps."""
        deal, _ = self._deal(deal, lang)
        return deal_health(self.kb, deal, deal.lang, notes)

    def negotiate(self, deal: Deal, lang: str | None = None) -> NegotiationResult:
        """The negotiation plan: numbers by the rules; in LLM mode the model only narrates it (checked)."""
        deal, notices = self._deal(deal, lang)
        return negotiate(self.kb, self.model, self.settings, self.vendor, deal, [*self.notices, *notices])

    # -- the meeting loop (copilot.practice, copilot.recap) --------------------------------------------
    def roleplay_session(self, deal: Deal, persona: str, lang: str | None = None) -> Any:
        """An interactive buyer role-play (copilot.practice.session.RoleplaySession); PersonaError if unknown."""
        from copilot.practice.session import open_session

        return open_session(self, deal, persona, lang)

    def roleplay(self, deal: Deal, persona: str, script: Sequence[str], lang: str | None = None) -> Any:
        """A role-play played from the rep's scripted lines, with its scorecard (RoleplayResult)."""
        return self.roleplay_session(deal, persona, lang).run_script(script)

    def recap(self, deal: Deal, notes: str, lang: str | None = None) -> Any:
        """Meeting notes read into a RecapResult: items, the deal update as a diff, the follow-up email."""
        from copilot.recap.run import recap

        prepared = self._prepare(notes, input_name("meeting_notes"))
        text = prepared.required(input_name("meeting_notes"))
        return recap(self.kb, self._in(deal, lang), text, self.model, prepared.notices, self.settings)

    # -- chat -------------------------------------------------------------------------------------
    def chat(self, message: str, history: Sequence[ChatTurn], deal: Deal) -> Iterator[ChatEvent]:
        """Route one turn to a skill, retrieve afresh, and stream the reply as events (copilot.chat.chat_events).

        An empty message yields one notice and "done": no skill runs (called directly, the skills raise
        EmptyInputError).
        """
        return chat_events(self, message, history, deal)

    def stream(self, call: Callable[[], R], done: Callable[[R], None]) -> Iterator[ChatEvent]:
        """Run one skill call (`call`, e.g. `lambda: copilot.ask(q)`) and yield its reply as "text" events.

        Offline the finished text comes in pieces. In LLM mode the model's draft comes as it is written
        (the call runs in a worker thread; its tokens arrive through a queue), then one "replace" event
        with the checked result's text. `done` receives the result before the last event is yielded.
        """
        return stream_events(call, done, llm=self.model is not None)
