"""A role-play session: the buyer opens, the rep answers one line at a time, the scorecard comes at the end.

Used interactively (`nego roleplay` one line per turn, the UI's Practice tab) or with a script of
the rep's lines (`--script`, the eval). The buyer's move is always decided by code
(copilot.practice.buyer); in LLM mode the model only voices that move as the persona, and a line
that is empty, fails, or holds a figure found in no source is replaced by the offline line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from copilot.deal import Deal
from copilot.knowledge import KnowledgeBase
from copilot.practice.buyer import BuyerMoves, Reaction, plan_objections
from copilot.practice.models import RoleplayResult, Turn
from copilot.practice.persona import Persona, load_persona
from copilot.practice.scorecard import ObjectionAnswer, scorecard
from copilot.practice.signals import TurnSignals, read_turn
from copilot.privacy import Redactor, redaction_enabled
from copilot.results import Notice
from copilot.skills.figures import number_bank
from copilot.text.numbers import find_figures
from copilot.vendor import VendorProfile
from copilot.wording import Wording

OBJECTIONS_PER_SESSION = 3
POSITIVE_CLOSE = 6.0
"""The buyer closes positively when the scorecard so far reaches this overall score."""
MAX_LLM_LINE_CHARS = 600


class SessionOverError(RuntimeError):
    """The buyer has closed the conversation: no more turns."""


class RoleplaySession:
    def __init__(
        self,
        kb: KnowledgeBase,
        deal: Deal,
        persona: Persona,
        lang: str | None = None,
        *,
        model: Any | None = None,
        vendor: VendorProfile | None = None,
        regional: bool = False,
        objections: int = OBJECTIONS_PER_SESSION,
        redact: bool = False,
    ) -> None:
        self.kb = kb
        self.deal = deal
        self.persona = persona
        self.lang = lang or deal.lang
        self.model = model
        self.redactor = Redactor() if redact else None
        self.words = Wording("roleplay", self.lang)
        self.plan = plan_objections(kb, persona, deal, regional or bool(deal.constraints.compliance), objections)
        self.buyer = BuyerMoves(persona, self.plan, self.lang, self.words("render.ask_next_step"))
        self.sources = [deal.text(), vendor.text() if vendor else "", persona.text(self.lang)]
        self.pains = [*deal.pains, *deal.goals, *(g(self.lang) for g in persona.goals)]
        self.turns: list[Turn] = []
        self.signals: list[TurnSignals] = []
        self.answers: list[list[TurnSignals]] = [[] for _ in self.plan]
        self.notices: list[Notice] = []
        self.finished = False

    # -- turns ------------------------------------------------------------------------------------
    def open(self) -> Turn:
        return self._say(self.buyer.opening(), "")

    def reply(self, text: str) -> Turn:
        """The rep's line; returns the buyer's answer (its closing line ends the session)."""
        if self.finished:
            raise SessionOverError("the buyer has closed the conversation")
        if not self.turns:
            self.open()
        text = text.strip()
        signals = read_turn(self.kb, text, self.lang, self.pains, self.sources)
        self.signals.append(signals)
        if 0 <= self.buyer.current < len(self.plan):
            self.answers[self.buyer.current].append(signals)
        self.turns.append(Turn(role="rep", text=text, moves=["rep"]))
        positive = self._card().overall >= POSITIVE_CLOSE
        reaction = self.buyer.react(signals, positive)
        self.finished = reaction.closing
        return self._say(reaction, text)

    def _say(self, reaction: Reaction, rep_text: str) -> Turn:
        line = ("" if self.lang == "zh" else " ").join(reaction.lines)
        voiced, by = self._voice(reaction, line, rep_text)
        turn = Turn(role="buyer", text=voiced, moves=reaction.moves, concern=reaction.concern, voiced_by=by)
        self.turns.append(turn)
        return turn

    # -- LLM voice --------------------------------------------------------------------------------
    def _voice(self, reaction: Reaction, line: str, rep_text: str) -> tuple[str, Any]:
        if self.model is None:
            return line, "offline"
        from copilot.llm.text_reply import text_reply

        w, p, lang = self.words, self.persona, self.lang
        system = w(
            "llm.system",
            title=p.title(lang),
            who=p.who(lang),
            goals="; ".join(g(lang) for g in p.goals),
            convinced_by="; ".join(c(lang) for c in p.convinced_by),
            customer=self.deal.who(self.lang),
            scenario=self.deal.scenario,
            region=self.deal.region,
            stage=self.deal.stage,
        )
        user = w("llm.user", rep=rep_text or "-", move=w(f"llm.moves.{reaction.moves[-1]}"), line=line)
        try:
            text = text_reply(self.model, system, user, self.redactor, MAX_LLM_LINE_CHARS)
        except Exception:  # any model failure: the offline line, with a notice
            return self._fallback(line, "reason_error")
        if not text:
            return self._fallback(line, "reason_empty")
        bank = number_bank([*self.sources, rep_text, line])
        if any(not bank.has_figure(f) for f in find_figures(text)):
            return self._fallback(line, "reason_numbers")
        return text, "llm"

    def _fallback(self, line: str, reason: str) -> tuple[str, Any]:
        message = self.words("notice.llm_fallback", reason=self.words(f"notice.{reason}"))
        if all(n.message != message for n in self.notices):
            self.notices.append(Notice(kind="fallback", message=message))
        return line, "offline"

    # -- the end ----------------------------------------------------------------------------------
    def _card(self) -> Any:
        raised = [
            ObjectionAnswer(self.plan[i].concern, turns)
            for i, turns in enumerate(self.answers)
            if i <= self.buyer.current and turns
        ]
        return scorecard(self.signals, raised, self.lang)

    def result(self) -> RoleplayResult:
        result = RoleplayResult(
            language=self.lang,  # type: ignore[arg-type]
            mode="llm" if self.model is not None else "offline",
            persona=self.persona.key,
            persona_title=self.persona.title(self.lang),
            customer=self.deal.who(self.lang),
            turns=list(self.turns),
            scorecard=self._card(),
            finished=self.finished,
            notices=list(self.notices),
        )
        return result.model_copy(update={"text": render_roleplay(result)})

    def run_script(self, lines: Iterable[str]) -> RoleplayResult:
        """Play every rep line in order (until the buyer closes) and return the result."""
        if not self.turns:
            self.open()
        for line in lines:
            if self.finished:
                break
            if line.strip():
                self.reply(line)
        return self.result()


def open_session(copilot: Any, deal: Deal, persona: str, lang: str | None = None) -> RoleplaySession:
    """A session over the copilot's knowledge base, model and vendor; the deal's regimes make it regional."""
    reading = copilot.read(deal)
    regional = bool(reading.regimes) or bool(reading.of_kind("compliance"))
    return RoleplaySession(
        copilot.kb,
        deal,
        load_persona(persona),
        lang,
        model=copilot.model,
        vendor=copilot.vendor,
        regional=regional,
        redact=copilot.model is not None and redaction_enabled(copilot.settings),
    )


def render_roleplay(result: RoleplayResult) -> str:
    w = Wording("roleplay", result.language)
    out = [f"## {w('render.title', customer=result.customer, persona=result.persona_title)}", ""]
    for turn in result.turns:
        key = "render.buyer" if turn.role == "buyer" else "render.rep"
        out.append(w(key, persona=result.persona_title, text=turn.text))
    if not result.finished:
        out.append(w("render.unfinished"))
    out += ["", render_scorecard(result)]
    return "\n".join(out)


def render_scorecard(result: RoleplayResult) -> str:
    w = Wording("roleplay", result.language)
    card = result.scorecard
    out = [f"### {w('render.scorecard')}", w("render.overall", overall=card.overall, verdict=card.verdict), ""]
    for item in card.items:
        out.append(w("render.item", label=item.label, score=item.score, reason=item.reason))
        out += [w("render.evidence", quote=q) for q in item.evidence]
    return "\n".join(out)
