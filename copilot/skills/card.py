"""The one-page prep card: what a rep carries into the meeting, composed from the brief's parts.

Goal (from stage and deal), at most three highlights (each a point in the buyer's terms with its
proof: a cited case or method, the vendor's own reference, or marked as inferred), the top three
risks with a one-line mitigation, three questions, the next step (sized by the deal's budget and
timeline when the DealReading has them), and the fit verdict in one line. The stage changes it:
discovery asks more and claims less; proposal leads with value and plan; negotiation with shared
risk and what to trade; closing with the next signature step. Rep-only notes (walk-away, vendor
gaps, private references, what not to claim) stay in `rep_notes`. Wording: prompts/offline/<lang>/card.yaml.
"""

from __future__ import annotations

from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.reading.model import DealReading
from copilot.results import (
    CardHighlight,
    CardRisk,
    ExplainResult,
    FitResult,
    ObjectionResult,
    PlanResult,
    PrepCard,
    RisksResult,
)
from copilot.skills.notes import rep_notes_block, unique
from copilot.skills.passages import Cited, clause, end_sentence, similarity
from copilot.skills.story import in_language, status_of
from copilot.skills.story import words as story_words
from copilot.vendor import VendorProfile
from copilot.wording import Wording

MAX_HIGHLIGHTS = 3
MAX_RISKS = 3
MAX_QUESTIONS = 3
LEVEL = {"low": 0, "medium": 1, "high": 2}
STAGE_HIGHLIGHTS = {
    "discovery": ("value", "vendor"),
    "proposal": ("value", "plan", "vendor"),
    "negotiation": ("shared_risk", "trade", "plan"),
    "closing": ("closing", "value", "shared_risk"),
}


def words(lang: str) -> Wording:
    return Wording("card", lang)


class _Composer:
    def __init__(
        self,
        kb: KnowledgeBase,
        c: Cited,
        deal: Deal,
        lang: str,
        story: ExplainResult,
        plan: PlanResult,
        vendor: VendorProfile | None,
        reading: DealReading | None,
    ) -> None:
        self.kb, self.c, self.deal, self.lang = kb, c, deal, lang
        self.story, self.plan, self.vendor, self.reading = story, plan, vendor, reading
        self.w = words(lang)
        self.customer = deal.who(lang)
        self.notes: list[str] = []
        self.fit_verdict = ""
        self.fit_reason = ""

    @property
    def budget(self) -> str:
        return budget_text(self.reading)

    def pain(self) -> str:
        """The deal's pain closest to what the scenario's playbook is about (not merely the first one)."""
        if not self.deal.pains:
            return ""
        typical = [p.get(self.lang) for p in self.kb.playbook(self.deal.scenario).pains]
        best = similarity(self.kb, self.deal.pains, typical).max(axis=1)
        index = max(range(len(self.deal.pains)), key=lambda i: (float(best[i]), -i))
        return clause(self.deal.pains[index], self.lang, lower=False)

    def value(self) -> CardHighlight | None:
        case = next((c for c in self.story.citations if c.type == "case"), None)
        if not self.deal.pains or case is None or self.fit_verdict == "not_fit":
            return None  # no value claim where the fit check says a blockchain is not the answer
        point = self.w("highlight.value", customer=self.customer, pain=self.pain())
        doc = self.kb.doc(case.doc_id)
        status = status_of(doc) if doc else ""
        label = story_words(self.lang)(f"status.{status}") if status else ""
        line = _first_measured(self.story.proof, case.title, self.lang)
        key = "proof.cited_status" if label else "proof.cited"
        proof = self.w(key, title=case.title, status=label, line=line)
        return CardHighlight(point=point, proof=proof, proof_kind="cited", sources=[case.doc_id])

    def plan_point(self) -> CardHighlight | None:
        if not self.plan.phases:
            return None
        first = self.plan.phases[0]
        key = "highlight.plan_budget" if self.budget else "highlight.plan"
        point = self.w(
            key,
            start=first.start_month,
            end=first.end_month,
            deliverable=clause(first.deliverables[0], self.lang, lower=False),
            kpi=first.kpis[0].name,
            customer=self.customer,
            budget=self.budget,
        )
        playbook = next((c for c in self.plan.citations if c.type == "playbook"), None)
        if playbook is None:
            return CardHighlight(
                point=point,
                proof=self.w("proof.inferred", line=self.w("proof_plan", customer=self.customer)),
                proof_kind="inferred",
            )
        proof = self.w("proof.cited", title=playbook.title, line=self.w("proof_plan", customer=self.customer))
        return CardHighlight(point=point, proof=proof, proof_kind="cited", sources=[playbook.doc_id])

    def vendor_point(self) -> CardHighlight | None:
        if self.vendor is None:
            return None
        refs = [r for r in self.vendor.references if r.scenario in (None, self.deal.scenario)]
        for ref in refs:
            name = in_language(ref.customer, self.lang)
            if not ref.public:
                self.notes.append(self.w("note_private_ref", customer_ref=name))
                continue
            point = self.w("highlight.vendor", product=in_language(self.vendor.product, self.lang), customer_ref=name)
            proof = self.w("proof.vendor", line=end_sentence(in_language(ref.outcome, self.lang), self.lang))
            return CardHighlight(point=point, proof=proof, proof_kind="vendor")
        return None

    def shared_risk(self) -> CardHighlight | None:
        point = self.w("highlight.shared_risk", customer=self.customer)
        return CardHighlight(
            point=point, proof=self.w("proof.inferred", line=self.w("proof_shared")), proof_kind="inferred"
        )

    def trade(self) -> CardHighlight | None:
        negotiation = self.deal.negotiation
        if negotiation is None:
            return None
        for issue in negotiation.issues:
            self.notes.append(
                self.w(
                    "note_walk_away",
                    issue=issue.name,
                    walk_away=f"{issue.walk_away:g}",
                    target=f"{issue.target:g}",
                    unit=issue.unit,
                )
            )
        if not negotiation.tradeables:
            return None
        best = max(negotiation.tradeables, key=lambda t: LEVEL[t.value_to_them] - LEVEL[t.cost_to_us])
        point = self.w("highlight.trade", customer=self.customer, get=best.get, give=best.give)
        return CardHighlight(
            point=point, proof=self.w("proof.inferred", line=self.w("proof_trade")), proof_kind="inferred"
        )

    def closing(self) -> CardHighlight | None:
        if not self.plan.phases:
            return None
        first = self.plan.phases[0]
        point = self.w(
            "highlight.closing",
            customer=self.customer,
            deliverable=clause(first.deliverables[0], self.lang, lower=False),
            kpi=first.kpis[0].name,
        )
        playbook = next((c for c in self.plan.citations if c.type == "playbook"), None)
        if playbook is None:
            return CardHighlight(
                point=point, proof=self.w("proof.inferred", line=self.w("proof_closing")), proof_kind="inferred"
            )
        proof = self.w("proof.cited", title=playbook.title, line=self.w("proof_closing"))
        return CardHighlight(point=point, proof=proof, proof_kind="cited", sources=[playbook.doc_id])

    def highlights(self) -> list[CardHighlight]:
        makers = {
            "value": self.value,
            "plan": self.plan_point,
            "vendor": self.vendor_point,
            "shared_risk": self.shared_risk,
            "trade": self.trade,
            "closing": self.closing,
        }
        out = []
        for kind in STAGE_HIGHLIGHTS[self.deal.stage]:
            made = makers[kind]()
            if made is None and kind == "value" and self.fit_verdict == "not_fit":
                made = self.fit_check()  # no value claim where a blockchain is in doubt: the check instead
            if made is not None:
                out.append(made)
        if self.deal.stage == "negotiation" and self.deal.negotiation is None:
            value = self.value()
            out += [value] if value is not None else []
        if not out:  # nothing to claim (e.g. the fit check doubts a blockchain): the honest point is the check
            out.append(self.fit_check())
        return out[:MAX_HIGHLIGHTS]

    def fit_check(self) -> CardHighlight:
        point = self.w("highlight.fit_check", customer=self.customer)
        reason = clause(self.fit_reason, self.lang, lower=False) if self.fit_reason else self.w("proof_fit")
        playbook = next((c for c in self.plan.citations if c.type == "playbook"), None)
        if playbook is None:
            return CardHighlight(point=point, proof=self.w("proof.inferred", line=reason), proof_kind="inferred")
        proof = self.w("proof.cited", title=playbook.title, line=reason)
        return CardHighlight(point=point, proof=proof, proof_kind="cited", sources=[playbook.doc_id])


def _first_measured(proof: str, title: str, lang: str) -> str:
    """The first measured sentence of the story's proof beat (the sentence after the case's title)."""
    from copilot.text.chunking import split_sentences

    sentences = split_sentences(proof)
    for i, sentence in enumerate(sentences):
        if title in sentence and i + 1 < len(sentences):
            return sentences[i + 1]
    return sentences[1] if len(sentences) > 1 else (sentences[0] if sentences else "")


def _questions(kb: KnowledgeBase, c: Cited, deal: Deal, lang: str, asked: str) -> list[str]:
    """Three questions, each addressed to someone at the table: the stage's own first (after discovery),
    then the playbook's closest to the deal that the story does not ask already."""
    w = words(lang)
    out: list[str] = []
    if deal.stage != "discovery":
        out.append(w(f"question.{deal.stage}", customer=deal.who(lang)))
    playbook = kb.playbook(deal.scenario)
    questions = [q.get(lang) for q in playbook.discovery_questions]
    query = "\n".join([*deal.pains, *deal.goals]) or playbook.pains[0].get(lang)
    sims = similarity(kb, [query], questions)[0]
    for i in sorted(range(len(questions)), key=lambda j: (-float(sims[j]), j)):
        if len(out) >= MAX_QUESTIONS:
            break
        grounded = c.grounded(playbook.id, questions[i], [deal.text()])
        if grounded and grounded not in out and grounded not in asked:
            out.append(grounded)
    people = deal.audience or [deal.who(lang)]
    return [
        q if deal.who(lang) in q else w("question_to", who=people[n % len(people)], question=q)
        for n, q in enumerate(out)
    ]


def budget_text(reading: DealReading | None) -> str:
    """The deal's budget as the rep wrote it (the parsed amount's words, else the budget constraint's)."""
    if reading is None:
        return ""
    if reading.budget is not None:
        return reading.budget.text
    return next((c.text for c in reading.of_kind("budget")), "")


def _next_step(deal: Deal, lang: str, reading: DealReading | None) -> str:
    w = words(lang)
    parts = [w(f"next_step.{deal.stage}", customer=deal.who(lang))]
    if reading is not None:
        budget = budget_text(reading)
        if budget:
            parts.append(w("next_budget", budget=budget))
        timeline = next((x.text for x in reading.of_kind("timeline")), None)
        if timeline:
            parts.append(w("next_timeline", timeline=timeline))
    return ("" if lang == "zh" else " ").join(parts)


def build_card(
    kb: KnowledgeBase,
    g: Grounding,
    deal: Deal,
    lang: str,
    parts: tuple[ExplainResult, FitResult, RisksResult, PlanResult, list[ObjectionResult]],
    vendor: VendorProfile | None = None,
    reading: DealReading | None = None,
) -> PrepCard:
    story, fit, risks, plan, objections = parts
    w = words(lang)
    c = Cited(g)
    composer = _Composer(kb, c, deal, lang, story, plan, vendor, reading)
    composer.fit_verdict = fit.verdict
    composer.fit_reason = fit.reasons[0] if fit.reasons else ""
    pain = composer.pain() or (clause(deal.goals[0], lang, lower=False) if deal.goals else deal.who(lang))
    goal_text = clause(deal.goals[0], lang, lower=False) if deal.goals else pain
    goal = w(f"goal.{deal.stage}", customer=deal.who(lang), pain=pain, goal=goal_text)
    highlights = composer.highlights()
    top_risks = [
        CardRisk(risk=item.risk, mitigation=end_sentence(item.mitigations[0], lang), risk_id=item.risk_id)
        for item in risks.items[:MAX_RISKS]
        if item.mitigations
    ]
    reason = fit.reasons[0] if fit.reasons else ""
    fit_line = w(f"fit.{fit.verdict}", reason=clause(reason, lang, lower=False)) if reason else ""
    notes = [*story.rep_notes, *composer.notes]
    if reading is not None:
        notes += [w("note_gap", need=gap.need, reason=gap.reason) for gap in reading.vendor_gaps]
    if fit.verdict != "fit" and fit.alternative:
        notes.append(w("note_alternative", alternative=fit.alternative))
    for o in objections:
        notes += [w("note_objection", objection=o.objection, note=n) for n in o.rep_notes if o.unsure]
    return PrepCard(
        stage=deal.stage,
        goal=goal,
        highlights=highlights,
        top_risks=top_risks,
        questions=_questions(kb, c, deal, lang, story.today),
        next_step=_next_step(deal, lang, reading),
        fit_line=fit_line,
        rep_notes=unique(notes),
    )


def render_card(card: PrepCard, lang: str, customer: str, level: int = 2, notes: bool = True) -> str:
    """The card as Markdown: customer-facing parts first, the rep's notes in their own marked box."""
    w = words(lang)
    sep = "：" if lang == "zh" else ": "
    h = "#" * level
    sub = "#" * (level + 1)
    parts = [f"{h} {w('heading.card')}{sep}{customer}", f"{sub} {w('heading.goal')}\n{card.goal}"]
    if card.fit_line:
        parts.append(f"{sub} {w('heading.fit')}\n{card.fit_line}")
    if card.highlights:
        lines = []
        for n, item in enumerate(card.highlights, 1):
            lines.append(f"{n}. {item.point}\n   - {w('heading.proof')}{sep}{item.proof}")
        parts.append(f"{sub} {w('heading.highlights')}\n" + "\n".join(lines))
    if card.top_risks:
        risks = "\n".join(f"- {w('risk_line', risk=r.risk, mitigation=r.mitigation)}" for r in card.top_risks)
        parts.append(f"{sub} {w('heading.risks')}\n{risks}")
    if card.questions:
        parts.append(f"{sub} {w('heading.questions')}\n" + "\n".join(f"- {q}" for q in card.questions))
    parts.append(f"{sub} {w('heading.next_step')}\n{card.next_step}")
    if notes and card.rep_notes:
        parts.append(rep_notes_block(card.rep_notes, w("heading.rep_notes")))
    return "\n\n".join(parts) + "\n"


def customer_text(card: PrepCard) -> str:
    """Everything on the card the buyer may hear or read (not the rep's notes)."""
    lines = [card.goal, card.fit_line, card.next_step, *card.questions]
    lines += [x for h in card.highlights for x in (h.point, h.proof)]
    lines += [x for r in card.top_risks for x in (r.risk, r.mitigation)]
    return "\n".join(x for x in lines if x)
