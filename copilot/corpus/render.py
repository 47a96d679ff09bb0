"""Render structured entries (glossary, risk, playbook) as Markdown per language.

The index chunks and searches every document the same way, so structured
entries are turned into the same shape as Markdown documents: one section per
language, with headings the chunker can split on. The layout and labels are
wording (prompts/offline/<lang>/corpus.yaml).
"""

from __future__ import annotations

from copilot.corpus.models import Bilingual, GlossaryEntry, PlaybookEntry, RiskEntry, StructuredEntry
from copilot.vocabulary import RISK_CATEGORIES, SCENARIOS
from copilot.wording import Wording


def _bullets(items: list[Bilingual], lang: str) -> str:
    return "\n".join(f"- {item.get(lang)}" for item in items)


def _section(say: Wording, heading: str, body: str) -> str:
    return say("section", heading=say(heading), body=body)


def _glossary(entry: GlossaryEntry, lang: str, say: Wording) -> str:
    aliases = entry.aliases_zh + entry.aliases_en if lang == "zh" else entry.aliases_en + entry.aliases_zh
    other = entry.title_en if lang == "zh" else entry.title_zh
    parts = [say("glossary.title", title=entry.title(lang), other=other)]
    if aliases:
        parts.append(say("glossary.aliases", aliases=", ".join(aliases)))
    for key in ("plain", "analogy", "outcome", "example", "avoid_when"):
        parts.append(_section(say, f"glossary.{key}", getattr(entry, key).get(lang)))
    return "\n\n".join(parts)


def _risk(entry: RiskEntry, lang: str, say: Wording) -> str:
    li = 0 if lang == "zh" else 1
    head = [
        say("risk.category", category=RISK_CATEGORIES[entry.category][li]),
        say("risk.scores", likelihood=entry.likelihood, impact=entry.impact),
        say("risk.owner", owner=say(f"owner.{entry.owner}")),
    ]
    if entry.rises_in:
        head.append(say("risk.rises_in", scenarios=", ".join(SCENARIOS[s][li] for s in entry.rises_in)))
    return "\n\n".join(
        [
            "\n".join(head),
            _section(say, "risk.description", entry.description.get(lang)),
            _section(say, "risk.signals", _bullets(entry.signals, lang)),
            _section(say, "risk.mitigations", _bullets(entry.mitigations, lang)),
        ]
    )


def _playbook(entry: PlaybookEntry, lang: str, say: Wording) -> str:
    blocks = [
        _section(say, "playbook.pains", _bullets(entry.pains, lang)),
        _section(say, "playbook.goals", _bullets(entry.goals, lang)),
    ]
    for phase in entry.phases:
        kpis = "\n".join(
            say(
                "playbook.kpi",
                name=k.name.get(lang),
                target=k.target,
                unit=k.unit.get(lang),
                how=k.how_measured.get(lang),
            )
            for k in phase.kpis
        )
        blocks.append(
            say(
                "playbook.phase",
                name=phase.name.get(lang),
                start=phase.start_month,
                end=phase.end_month,
                deliverables=_bullets(phase.deliverables, lang),
                kpis=kpis,
                buyer_tasks=_bullets(phase.buyer_tasks, lang),
                vendor_tasks=_bullets(phase.vendor_tasks, lang),
            )
        )
    metrics = "\n".join(
        say("playbook.metric", name=m.name.get(lang), unit=m.unit.get(lang), how=m.how_measured.get(lang))
        for m in entry.value_metrics
    )
    blocks.append(_section(say, "playbook.value_metrics", metrics))
    steps = "\n".join(f"{i}. {step.get(lang)}" for i, step in enumerate(entry.demo_script, 1))
    blocks.append(_section(say, "playbook.demo", steps))
    objections = "\n".join(
        say("playbook.objection", objection=o.objection.get(lang), answer=o.answer.get(lang)) for o in entry.objections
    )
    blocks.append(_section(say, "playbook.objections", objections))
    blocks.append(_section(say, "playbook.discovery", _bullets(entry.discovery_questions, lang)))
    blocks.append(
        say(
            "playbook.fit",
            good_fit=_bullets(entry.fit.good_fit, lang),
            poor_fit=_bullets(entry.fit.poor_fit, lang),
            alternative=entry.fit.alternative.get(lang),
        )
    )
    return "\n\n".join(blocks)


def render_sections(entry: StructuredEntry) -> dict[str, str]:
    """Markdown text of a structured entry, one per language."""
    out: dict[str, str] = {}
    for lang in ("zh", "en"):
        say = Wording("corpus", lang)
        if isinstance(entry, GlossaryEntry):
            out[lang] = _glossary(entry, lang, say)
        elif isinstance(entry, RiskEntry):
            out[lang] = _risk(entry, lang, say)
        else:
            out[lang] = _playbook(entry, lang, say)
    return out
