"""One chat turn: understand the request, run the skill that serves it, shape the answer as asked.

1. Route from meaning (copilot.router over the labelled rep turns); injected instructions never
   choose the skill.
2. Read the request: the buyer's words inside a meta-request ("他说…怎么回应") go to the objection
   skill, not the rep's question around them; the requested form (sentences, bullets, length,
   language, audience) is noted (copilot.request).
3. Run the skill; a route whose skill is not in the product yet is answered by the closest one,
   with a notice saying so.
4. Shape the text to the requested form (copilot.shaping) and say which skill answered and which
   one to try next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from copilot.inputs import input_name, prepare_text
from copilot.long_input import long_input_notice
from copilot.reading.pickup import constraint_in_message
from copilot.replies import ChatEvent
from copilot.request import RequestedForm, buyer_words, requested_form
from copilot.results import AnyResult, ExplainResult, Notice
from copilot.router import FALLBACK, ROUTES, Route, RouteDecision, available_skill, next_skill, route
from copilot.settings import Settings
from copilot.shaping import shape
from copilot.text.lang import detect_language
from copilot.text.limits import clean_text, cut_to_tokens
from copilot.text.tokens import count_tokens
from copilot.wording import Wording

if TYPE_CHECKING:
    from copilot.core import Copilot
    from copilot.deal import Deal

BASE_SKILLS = ("explain", "objection", "risks", "plan", "fit", "ask", "brief")
ADDED_SKILLS = ("card", "negotiate", "recap")
"""Skills other parts of the product add to `Copilot` (methods of these names); routed to when present.
Role-play is not among them: it is a session with a persona (the Practice tab); a chat turn asking for it
is answered by the closest skill (objection) with a notice saying where to practise."""

EMPTY_MESSAGE = " / ".join(Wording("inputs", lang)("empty_message") for lang in ("zh", "en"))
"""What an empty chat message is answered with, in both languages (the UI shows it too)."""
FOLLOW_UP_CHARS = 16
"""A message shorter than this is a follow-up: it is asked together with the previous question."""


class ChatTurn(BaseModel):
    """One message of a conversation's history."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class TurnPlan:
    decision: RouteDecision
    answered_by: str
    substitute: bool
    lang: str
    form: RequestedForm
    buyer_words: str | None
    next_skill: str | None


def skills_of(copilot: Copilot) -> set[str]:
    return {*BASE_SKILLS, *(name for name in ADDED_SKILLS if callable(getattr(copilot, name, None)))}


def plan_turn(copilot: Copilot, text: str, deal: Deal) -> TurnPlan:
    decision = route(text, copilot.kb.understanding.classify)
    request = decision.request or text
    form = requested_form(request)
    answered_by, substitute = available_skill(decision.skill, skills_of(copilot))
    lang = form.language or detect_language(request, default=deal.lang)
    words = buyer_words(request) if answered_by in ("objection", "roleplay") else None
    return TurnPlan(decision, answered_by, substitute, lang, form, words, next_skill(decision.skill))


def _with_audience(deal: Deal, audience: str | None) -> Deal:
    if not audience or audience in deal.audience:
        return deal
    return deal.model_copy(update={"audience": [audience, *deal.audience]})


def run_turn(
    copilot: Copilot,
    plan: TurnPlan,
    text: str,
    history: Sequence[ChatTurn],
    deal: Deal,
    ask_text: Callable[[str, Sequence[ChatTurn]], str],
) -> AnyResult:
    """The result of the skill that answers the turn, shaped to the requested form, with its notices."""
    deal = _with_audience(deal, plan.form.audience)
    lang = plan.lang
    skill = plan.answered_by
    result: Any
    substitute = plan.substitute
    if skill in ADDED_SKILLS:
        try:
            result = _added_skill(copilot, skill, deal, text, lang)
        except TypeError:  # its signature is not one a chat turn can call: the closest skill answers
            skill, substitute = next(iter(FALLBACK.get(skill, ("ask",)))), True
    if skill in ADDED_SKILLS:
        pass
    elif skill == "brief":
        result = copilot.brief(deal, lang)
    elif skill == "risks":
        result = copilot.risks(deal, lang)
    elif skill == "plan":
        result = copilot.plan(deal, lang=lang)
    elif skill == "fit":
        result = copilot.fit(deal, lang)
    elif skill == "objection":
        result = copilot.objection(deal, plan.buyer_words or text, lang)
    elif skill == "explain":
        result = copilot.explain(deal, text, lang)
    else:
        result = copilot.ask(ask_text(text, history), deal, lang)
    notices: list[Notice] = []
    if substitute:
        w = Wording("chat", lang)
        wanted, used = w(f"skill.{plan.decision.skill}"), w(f"skill.{skill}")
        key = "substitute_roleplay" if plan.decision.skill == "roleplay" else "substitute"
        notices.append(Notice(kind="info", message=w(key, wanted=wanted, used=used)))
    if isinstance(result, ExplainResult):
        result = result.model_copy(update={"text": value_first(result)})
    if plan.form.shapes_text():
        lead = _explain_lead(result, text) if isinstance(result, ExplainResult) else []
        result = result.model_copy(update={"text": shape(result.text, plan.form, lead)})
    if notices:
        result = result.model_copy(update={"notices": [*notices, *result.notices]})
    return result  # type: ignore[no-any-return]


def value_first(result: ExplainResult) -> str:
    """An explanation for the chat: what it does for the buyer first, proof second, today's picture last.

    Jargon stays handled as the skill did it (explained or removed, in `result.terms`); sources are shown
    once, as the reply's citations, not as a list in the text.
    """
    w = Wording("chat", result.language)
    parts = [
        (w("value.what_changes"), result.what_changes),
        (w("value.proof"), result.proof),
        (w("value.today"), "\n\n".join(p for p in (result.today, result.cost_today) if p)),
    ]
    return "\n\n".join(f"## {title}\n{body.strip()}" for title, body in parts if body.strip())


def _explain_lead(result: ExplainResult, request: str) -> list[str]:
    """What a short explanation keeps first: the plain meaning of the terms the rep named, then the value."""
    w = Wording("chat", result.language)
    lowered = request.lower()
    terms = [t for t in result.terms if t.handling == "explained" and t.term.lower() in lowered]
    plain = [w("term_is", term=t.term, plain=t.plain[:1].lower() + t.plain[1:]) for t in terms]
    return [*plain, result.what_changes, result.proof]


def _added_skill(copilot: Copilot, skill: str, deal: Deal, text: str, lang: str) -> Any:
    """A skill another part of the product added: called with the deal (and the rep's text when it takes it)."""
    method = getattr(copilot, skill)
    try:
        return method(deal, text, lang=lang)
    except TypeError:
        return method(deal, lang=lang)


def skill_label(skill: str, lang: str) -> str:
    return Wording("chat", lang)(f"skill.{skill}")


def next_offer(skill: str | None, lang: str) -> tuple[str, str] | None:
    """(button label, message it sends) for the skill to try next, or None."""
    if skill is None or skill not in (*ROUTES, "brief"):
        return None
    w = Wording("chat", lang)
    return w(f"next.{skill}"), w(f"next_prompt.{skill}")


def chat_events(copilot: Copilot, message: str, history: Sequence[ChatTurn], deal: Deal) -> Iterator[ChatEvent]:
    """One turn as events (`Copilot.chat`): a constraint the message states, the route, the reply, its sources.

    An empty message (nothing left after removing blanks and invisible characters) yields one
    notice and "done": no skill runs. A message that had to be cleaned or cut is answered, and
    the result carries notices saying so.
    """
    prepared = prepare_text(message, copilot.settings, input_name("message"))
    if prepared.empty:
        yield ChatEvent(kind="notice", notice=Notice(kind="validation", message=EMPTY_MESSAGE))
        yield ChatEvent(kind="done")
        return
    text = prepared.text
    picked = constraint_in_message(text, deal, copilot.kb)
    if picked is not None:  # "他们要求等保三级": the deal panel gains the constraint, this turn uses it
        deal, constraint = picked
        say = Wording("reading", deal.lang)
        picked_up = say("chat.picked_up", text=constraint.text, kind=say(f"kinds.{constraint.kind}"))
        yield ChatEvent(kind="deal", deal=deal, notice=Notice(kind="info", message=picked_up))
    plan = plan_turn(copilot, text, deal)
    offer = next_offer(plan.decision.skill, plan.lang)
    route_event = ChatEvent(kind="route", skill=plan.decision.skill, answered_by=plan.answered_by)
    if offer:
        route_event = route_event.model_copy(update={"next_label": offer[0], "next_prompt": offer[1]})
    yield route_event
    turn_deal = deal if plan.lang == deal.lang else deal.model_copy(update={"language": plan.lang})
    answered: list[AnyResult] = []
    yield from copilot.stream(
        lambda: run_turn(copilot, plan, text, history, turn_deal, lambda t, h: with_context(t, h, copilot.settings)),
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


def with_context(message: str, history: Sequence[ChatTurn], settings: Settings) -> str:
    """A short follow-up ("那欧盟呢？", "and in the EU?") is asked together with the previous question.

    The previous question is cut so that both together stay within `settings.input_max_tokens`.
    """
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if previous and len(message) < FOLLOW_UP_CHARS:
        room = settings.input_max_tokens - count_tokens(message, settings.tokenizer_encoding) - 2
        previous = cut_to_tokens(clean_text(previous).text, max(room, 1), settings.tokenizer_encoding).text
        return f"{previous}\n{message}" if previous else message
    return message


__all__ = [
    "EMPTY_MESSAGE",
    "ChatTurn",
    "Route",
    "TurnPlan",
    "chat_events",
    "next_offer",
    "plan_turn",
    "run_turn",
    "skill_label",
    "skills_of",
    "with_context",
]
