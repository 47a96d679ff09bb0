"""The meeting brief: a one-page prep card first, everything else as its appendices.

The card (copilot.skills.card) is what a rep carries into the room; the appendices are the
opening, the story, the demo script, objections with answers, the risk checklist, the milestone
plan, the fit verdict, all discovery questions and next steps. All parts share one Grounding, so
the brief's citations are the union of its parts'. Rep-only notes are collected in one marked box
on the card and never appear in the customer-facing text. Wording: prompts/offline/<lang>/brief.yaml.
"""

from __future__ import annotations

from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.reading.model import DealReading
from copilot.results import BriefResult, Citation, TalkingPoint
from copilot.skills.card import build_card, render_card
from copilot.skills.explain import explain_offline, render_explain
from copilot.skills.fit import fit_offline, render_fit
from copilot.skills.health import deal_health, render_health
from copilot.skills.notes import REP_MARK
from copilot.skills.objection import objection_offline
from copilot.skills.passages import join_list, sources_section
from copilot.skills.plan import plan_offline, render_plan
from copilot.skills.risks import render_risks, risks_offline
from copilot.skills.shaping import budget_next_step
from copilot.vendor import VendorProfile
from copilot.vocabulary import SCENARIOS
from copilot.wording import Wording

MAX_OBJECTIONS = 3


def words(lang: str) -> Wording:
    return Wording("brief", lang)


def _opening(deal: Deal, lang: str) -> str:
    w = words(lang)
    scenario = SCENARIOS[deal.scenario][0 if lang == "zh" else 1]
    audience = join_list(deal.audience, lang)
    pain = deal.pains[0] if deal.pains else ""
    return w(
        "opening",
        customer=deal.who(lang),
        who=w("opening_who", audience=audience) if audience else "",
        focus=w("opening_focus", pain=pain) if pain else "",
        scenario=scenario if lang == "zh" else scenario.lower(),
    )


def _objections(kb: KnowledgeBase, reading: DealReading | None, texts: list[str]) -> list[str]:
    """The playbook's objections this buyer is likeliest to raise: by relevance to the deal (copilot.reading.
    relevance; ties keep the playbook's order), at most MAX_OBJECTIONS."""
    if reading is None:
        return texts[:MAX_OBJECTIONS]
    from copilot.reading.relevance import Relevance

    relevance = Relevance(reading, kb.industries, {r.key: r for r in kb.regimes})
    adapter = reading.adapter(reading.lang)
    shown = {adapter.text(t) or t: t for t in texts}  # scored as the brief will show them (the deal's industry words)
    return [shown[s.text] for s in relevance.order(list(shown), "objection", MAX_OBJECTIONS)][:MAX_OBJECTIONS]


def _ids(citations: list[Citation]) -> list[str]:
    return list(dict.fromkeys(c.doc_id for c in citations))


def brief_offline(
    kb: KnowledgeBase,
    g: Grounding,
    deal: Deal,
    lang: str,
    horizon_months: int | None = 12,
    reading: DealReading | None = None,
    vendor: VendorProfile | None = None,
) -> BriefResult:
    playbook = kb.playbook(deal.scenario)
    vendor = vendor or (reading.vendor if reading else None)
    chain = reading.chain_type if reading else None
    story_input = "\n".join(deal.pains + deal.goals) or playbook.pains[0].get(lang)
    story = explain_offline(kb, g, deal, story_input, lang, vendor, chain)
    fit = fit_offline(kb, g, deal)
    risks = risks_offline(kb, g, deal, reading)
    plan = plan_offline(kb, g, deal, horizon_months, reading)
    chosen = _objections(kb, reading, [o.objection.get(lang) for o in playbook.objections])
    objections = [objection_offline(kb, g, deal, text, lang) for text in chosen]
    card = build_card(kb, g, deal, lang, (story, fit, risks, plan, objections), vendor, reading)

    for section in ("heading.demo", "heading.questions"):  # the playbook passages the appendices quote
        hit = g.passage(playbook.id, " ".join(words(x)(section) for x in ("zh", "en")))
        if hit is not None:
            g.cite(hit)

    result = BriefResult(
        language=lang,  # type: ignore[arg-type]
        customer=deal.who(lang),
        card=card,
        opening=_opening(deal, lang),
        talking_points=[TalkingPoint(point=h.point, proof=h.sources) for h in card.highlights],
        story=story,
        demo_script=[step.get(lang) for step in playbook.demo_script],
        objections=objections,
        risks=risks,
        plan=plan,
        fit=fit,
        discovery_questions=[q.get(lang) for q in playbook.discovery_questions],
        next_steps=[*budget_next_step(reading), *words(lang).all(f"next_steps.{deal.stage}")],
        health=deal_health(kb, deal, lang),
        citations=g.citations,
        notices=[n for part in (story, fit, risks, plan, *objections) for n in part.notices],
        rep_notes=card.rep_notes,
    )
    return result.model_copy(update={"text": render_brief(result, kb)})


def with_part_texts(brief: BriefResult, deal: Deal) -> BriefResult:
    """A model's brief with its parts' Markdown rendered (the model writes their fields, never their text),
    and its card's fit line the decided one (`FitResult.one_line`, copied from the code's decision)."""
    update: dict[str, object] = {}
    if brief.mode == "llm" and brief.card is not None and brief.fit.one_line:
        update["card"] = brief.card.model_copy(update={"fit_line": brief.fit.one_line})
    if not brief.story.text:
        update["story"] = brief.story.model_copy(update={"text": render_explain(brief.story, deal)})
    if not brief.risks.text:
        update["risks"] = brief.risks.model_copy(update={"text": render_risks(brief.risks, deal, set(), [])})
    if not brief.plan.text:
        update["plan"] = brief.plan.model_copy(update={"text": render_plan(brief.plan, deal)})
    if not brief.fit.text:
        update["fit"] = brief.fit.model_copy(update={"text": render_fit(brief.fit, deal, [])})
    return brief.model_copy(update=update) if update else brief


def _section_body(text: str) -> str:
    """A part's own Markdown without its title heading, its rep-notes box and its sources list.

    The part's remaining headings are shifted so the shallowest is level three, nesting under the
    brief's own section heading.
    """
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
    body: list[str] = []
    sources = {Wording("ask", lang)("sources") for lang in ("zh", "en")}  # the heading of a sources list
    for line in lines:
        stripped = line.strip()
        title = stripped.lstrip("#").strip()
        if stripped.startswith("#") and title.lower() in {s.lower() for s in sources}:
            break
        if stripped.startswith((*(f"**{s}" for s in sources), f"> **{REP_MARK}")):
            break
        body.append(line)
    levels = [len(line) - len(line.lstrip("#")) for line in body if line.startswith("#")]
    shift = 3 - min(levels) if levels else 0
    shifted = [("#" * shift + line) if shift > 0 and line.startswith("#") else line for line in body]
    return "\n".join(shifted).strip()


def appendices(brief: BriefResult) -> list[tuple[str, str]]:
    """(heading, Markdown body) of each appendix, in order: the UI shows them collapsed."""
    lang = brief.language
    w = words(lang)
    sep = "：" if lang == "zh" else ": "
    objections = [
        f"### {o.objection}\n- {w('heading.concern')}{sep}{o.concern}\n- {o.response}\n"
        f"- {w('heading.ask_back')}{sep}{o.question_back}"
        for o in brief.objections
    ]
    health = []
    if brief.health is not None:
        title, _, body = render_health(brief.health).partition("\n")
        health.append((title.lstrip("#").strip(), body.strip()))
    return [
        (w("heading.opening"), brief.opening),
        (w("heading.story"), _section_body(brief.story.text)),
        (w("heading.demo"), "\n".join(f"- {step}" for step in brief.demo_script)),
        (w("heading.objections"), "\n\n".join(objections)),
        (w("heading.risks"), _section_body(brief.risks.text)),
        (w("heading.plan"), _section_body(brief.plan.text)),
        (w("heading.fit"), _section_body(brief.fit.text)),
        (w("heading.questions"), "\n".join(f"- {q}" for q in brief.discovery_questions)),
        (w("heading.next"), "\n".join(f"- {s}" for s in brief.next_steps)),
        *health,
    ]


def card_markdown(brief: BriefResult, notes: bool = True) -> str:
    """The brief's card alone (`nego brief --card`), with the rep's notes box unless `notes` is False."""
    if brief.card is None:
        return ""
    return render_card(brief.card, brief.language, brief.customer, level=2, notes=notes)


def render_brief(brief: BriefResult, kb: KnowledgeBase) -> str:
    lang = brief.language
    w = words(lang)
    sep = "：" if lang == "zh" else ": "
    parts = [f"# {w('heading.title')}{sep}{brief.customer}"]
    if brief.card is not None:
        parts.append(card_markdown(brief).strip())
    else:  # a model's brief without a card: its talking points lead
        points = []
        for p in brief.talking_points:
            proof = ", ".join(kb.title(doc_id, lang) for doc_id in p.proof[:3])
            points.append(f"- {p.point}" + (f" ({w('heading.proof')}{sep}{proof})" if proof else ""))
        parts.append(f"## {w('heading.points')}\n" + "\n".join(points))
    parts.append(f"# {w('heading.appendix')}")
    parts += [f"## {title}\n{body}" for title, body in appendices(brief)]
    parts.append(sources_section(brief.citations, lang))
    return "\n\n".join(parts) + "\n"
