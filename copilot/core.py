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

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from copilot.chat import next_offer, plan_turn, run_turn
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.inputs import PreparedText, fit_deal, prepare_text
from copilot.knowledge import KnowledgeBase
from copilot.long_input import long_input_notice
from copilot.reading.build import read_deal
from copilot.reading.chains import LineMatcher, contradicting_lines
from copilot.reading.model import DealReading
from copilot.reading.pickup import constraint_in_message
from copilot.reading.relevance import Relevance, Scored, candidates, order_brief
from copilot.replies import PREVIEW, ChatEvent, stream_events
from copilot.results import (
    AnyResult,
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
    Usage,
)
from copilot.settings import Settings
from copilot.skills.ask import ask_offline, render_ask
from copilot.skills.brief import brief_offline, render_brief, with_part_texts
from copilot.skills.explain import explain_offline, render_explain
from copilot.skills.fit import decision_text, fit_offline, fit_problems, render_fit
from copilot.skills.health import deal_health, with_health
from copilot.skills.negotiate_llm import negotiate
from copilot.skills.negotiate_model import NegotiationResult
from copilot.skills.objection import objection_offline, render_objection
from copilot.skills.plan import plan_offline, render_plan
from copilot.skills.risks import render_risks, risks_offline
from copilot.text.lang import detect_language
from copilot.text.limits import clean_text, cut_to_tokens, shorten
from copilot.text.tokens import count_tokens
from copilot.validators import check_jargon, validate
from copilot.vendor import VendorProfile, load_vendor
from copilot.wording import Wording

R = TypeVar("R", bound=SkillResult)
READINGS_KEPT = 32
QUOTE_SHOWN_CHARS = 300
"""An answer quotes the user's question or objection up to this length: it must not echo a pasted document."""
EMPTY_MESSAGE = "消息是空的（或只有空白和不可见字符），请输入问题 / The message is empty (or only blanks and invisible characters): type a question first"  # noqa: E501


class ChatTurn(BaseModel):
    """One message of a conversation's history."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


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
            notice = Notice(kind="fallback", message=f"{exc} — offline answers shown / 已改用离线模式")
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
        count_tokens("预热 warm up", self.settings.tokenizer_encoding)

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
        input_notices: Sequence[Notice] = (),
    ) -> R:
        """The offline result; in LLM mode the model's, grounded in the same passages, or the offline one.

        `input_notices` (what was done to the user's text) are added to the result, whichever it is.
        """
        started = time.perf_counter()
        vendor_text = self.vendor.text() if self.vendor else ""
        grounding = Grounding(self.kb, lang, "\n".join([input_text, deal.text() if deal else "", vendor_text]))
        offline = compose(grounding)
        if deal is not None:  # industry wording adapted; no claim about another chain type
            offline = self._adapt(offline, deal, lang)
        notices = [*self.notices, *input_notices]
        offline = offline.model_copy(update={"mode": "offline", "notices": [*notices, *offline.notices]})
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
            stream=PREVIEW.get(),
        )
        usage = result.usage.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 1)})
        if result.mode == "llm":
            result = result.model_copy(update={"notices": [*notices, *result.notices]})
        return result.model_copy(update={"usage": usage})

    def choices(self, result: SkillResult, deal: Deal) -> list[Scored]:
        """Each candidate sentence `result` shows, scored against the deal with its reasons (`--explain-choices`)."""
        reading = self.read(deal.model_copy(update={"language": result.language}))
        relevance = Relevance(reading, self.kb.industries, {r.key: r for r in self.kb.regimes})
        return [relevance.score(text, kind) for kind, text in candidates(result)]

    def _adapt(self, result: R, deal: Deal, lang: str) -> R:
        """`result` in the deal's industry's words, without sentences claiming another chain type's properties."""
        reading = self.read(deal)
        lines = contradicting_lines(self.kb.glossary, self.kb.playbooks.values(), reading.chain_type, lang)
        result = reading.adapter(lang, LineMatcher(lines)).model(result)
        if isinstance(result, BriefResult):  # questions, demo steps, talking points: the deal's first
            relevance = Relevance(reading, self.kb.industries, {r.key: r for r in self.kb.regimes})
            ordered = order_brief(result, relevance)
            if ordered is not result:
                result = cast("R", ordered.model_copy(update={"text": render_brief(ordered, self.kb)}))
        return result

    def _problems(self, result: SkillResult, grounding: Grounding) -> list[str]:
        """The validators every result must pass (the same ones the evals report)."""
        cited = grounding.text_of(result.citations)
        problems = validate(result, retrieved=set(grounding.hits), input_text=grounding.input_text, cited_text=cited)
        checks = check_jargon(result, self.kb) if isinstance(result, ExplainResult) else fit_problems(result, self.kb)
        if isinstance(result, BriefResult):  # the brief's fit narrates the same decision as `nego fit`
            checks += [f"fit: {p}" for p in fit_problems(result.fit, self.kb)]
        return problems + checks

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
        what = ("要解释的文本", "The text to explain")
        prepared = self._prepare(text, what)
        text = prepared.required(what)
        return self._run(
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
        return self._run(
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
        return self._run(
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
        return self._run(
            "fit",
            deal,
            deal.lang,
            "",
            lambda g: fit_offline(self.kb, g, deal),
            lambda r: render_fit(r, deal, []),
            task_input=decision_text(self.kb, deal) if self.model is not None else "",
            input_notices=notices,
        )

    def objection(self, deal: Deal, objection: str, lang: str | None = None) -> ObjectionResult:
        what = ("异议文本", "The objection")
        prepared = self._prepare(objection, what)
        objection = prepared.required(what)
        deal, notices = self._deal(deal, lang or detect_language(objection, default=deal.lang))
        result = self._run(
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
        what = ("问题", "The question")
        prepared = self._prepare(question, what)
        question = prepared.required(what)
        notices: list[Notice] = []
        if deal is not None:
            deal, notices = self._deal(deal, None)
        language = lang or detect_language(question, default=deal.lang if deal else self.settings.language)
        result = self._run(
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
        brief = self._run(
            "brief",
            deal,
            deal.lang,
            str(horizon_months or ""),
            lambda g: brief_offline(self.kb, g, deal, deal.lang, horizon_months, reading, self.vendor),
            lambda r: render_brief(with_part_texts(r, deal), self.kb),
            task_input=f"horizon_months: {horizon_months or 'the deal timeline, else 12'}"  # and the fit's decision
            + (f"\nfit decision:\n{decision_text(self.kb, deal)}" if self.model is not None else ""),
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

        prepared = self._prepare(notes, ("会议纪要", "The meeting notes"))
        text = prepared.required(("会议纪要", "The meeting notes"))
        return recap(self.kb, self._in(deal, lang), text, self.model, prepared.notices, self.settings)

    # -- chat -------------------------------------------------------------------------------------
    def chat(self, message: str, history: Sequence[ChatTurn], deal: Deal) -> Iterator[ChatEvent]:
        """Route one turn to a skill, retrieve afresh, and stream the reply as events.

        An empty message (nothing left after removing blanks and invisible characters) yields one
        notice and "done": no skill runs (called directly, the skills raise EmptyInputError). A
        message that had to be cleaned or cut is answered, and the result carries notices saying so.
        """
        prepared = self._prepare(message, ("消息", "The message"))
        if prepared.empty:
            yield ChatEvent(kind="notice", notice=Notice(kind="validation", message=EMPTY_MESSAGE))
            yield ChatEvent(kind="done")
            return
        text = prepared.text
        picked = constraint_in_message(text, deal, self.kb)
        if picked is not None:  # "他们要求等保三级": the deal panel gains the constraint, this turn uses it
            deal, constraint = picked
            say = Wording("reading", deal.lang)
            message = say("chat.picked_up", text=constraint.text, kind=say(f"kinds.{constraint.kind}"))
            yield ChatEvent(kind="deal", deal=deal, notice=Notice(kind="info", message=message))
        plan = plan_turn(self, text, deal)
        offer = next_offer(plan.decision.skill, plan.lang)
        route_event = ChatEvent(kind="route", skill=plan.decision.skill, answered_by=plan.answered_by)
        if offer:
            route_event = route_event.model_copy(update={"next_label": offer[0], "next_prompt": offer[1]})
        yield route_event
        turn_deal = self._in(deal, plan.lang)
        answered: list[AnyResult] = []
        yield from self.stream(
            lambda: run_turn(self, plan, text, history, turn_deal, lambda t, h: _with_context(t, h, self.settings)),
            answered.append,
        )
        result = answered[0]
        if prepared.notices:
            notices = [long_input_notice(n, message, text, plan.lang) for n in prepared.notices]
            result = result.model_copy(update={"notices": [*notices, *result.notices]})
        yield ChatEvent(kind="citations", citations=result.citations)
        for notice in result.notices:
            yield ChatEvent(kind="notice", notice=notice)
        yield route_event.model_copy(update={"kind": "result", "result": result})
        yield ChatEvent(kind="done")

    def stream(self, call: Callable[[], R], done: Callable[[R], None]) -> Iterator[ChatEvent]:
        """Run one skill call (`call`, e.g. `lambda: copilot.ask(q)`) and yield its reply as "text" events.

        Offline the finished text comes in pieces. In LLM mode the model's draft comes as it is written
        (the call runs in a worker thread; its tokens arrive through a queue), then one "replace" event
        with the checked result's text. `done` receives the result before the last event is yielded.
        """
        return stream_events(call, done, llm=self.model is not None)


def _with_context(message: str, history: Sequence[ChatTurn], settings: Settings) -> str:
    """A short follow-up ("那欧盟呢？", "and in the EU?") is asked together with the previous question.

    The previous question is cut so that both together stay within `settings.input_max_tokens`.
    """
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if previous and len(message) < 16:
        room = settings.input_max_tokens - count_tokens(message, settings.tokenizer_encoding) - 2
        previous = cut_to_tokens(clean_text(previous).text, max(room, 1), settings.tokenizer_encoding).text
        return f"{previous}\n{message}" if previous else message
    return message
