"""Render structured entries (glossary, risk, playbook) as Markdown per language.

The index chunks and searches every document the same way, so structured
entries are turned into the same shape as Markdown documents: one section per
language, with headings the chunker can split on.
"""

from __future__ import annotations

from copilot.corpus.models import Bilingual, GlossaryEntry, PlaybookEntry, RiskEntry, StructuredEntry
from copilot.vocabulary import RISK_CATEGORIES, SCENARIOS

_OWNER = {
    "buyer": ("买方", "buyer"),
    "vendor": ("供应商", "vendor"),
    "joint": ("双方共同", "joint"),
}

_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "aliases": "别名",
        "plain": "白话解释",
        "analogy": "生活类比",
        "outcome": "业务价值",
        "example": "对高管这样说",
        "avoid_when": "何时不要提",
        "category": "类别",
        "likelihood": "可能性",
        "impact": "影响",
        "owner": "责任方",
        "rises_in": "高发场景",
        "description": "风险描述",
        "signals": "预警信号",
        "mitigations": "缓解措施",
        "pains": "典型痛点",
        "goals": "可量化目标",
        "phases": "分阶段计划",
        "month": "第{start}–{end}个月",
        "deliverables": "交付物",
        "kpis": "KPI",
        "buyer_tasks": "买方任务",
        "vendor_tasks": "供应商任务",
        "value_metrics": "签约前约定的价值指标",
        "demo": "演示脚本",
        "objections": "常见异议与回应",
        "answer": "回应",
        "discovery": "探询问题",
        "fit": "适用性判断",
        "good_fit": "适合区块链",
        "poor_fit": "共享数据库更合适",
        "alternative": "替代方案",
        "measured": "衡量方式",
        "target": "目标",
        "sep": "：",
    },
    "en": {
        "aliases": "Aliases",
        "plain": "In plain words",
        "analogy": "Everyday analogy",
        "outcome": "Business outcome",
        "example": "Say it to an executive",
        "avoid_when": "When not to bring it up",
        "category": "Category",
        "likelihood": "Likelihood",
        "impact": "Impact",
        "owner": "Owner",
        "rises_in": "Rises in",
        "description": "Description",
        "signals": "Early-warning signals",
        "mitigations": "Mitigations",
        "pains": "Typical pains",
        "goals": "Quantifiable goals",
        "phases": "Phased plan",
        "month": "Months {start}–{end}",
        "deliverables": "Deliverables",
        "kpis": "KPIs",
        "buyer_tasks": "Buyer tasks",
        "vendor_tasks": "Vendor tasks",
        "value_metrics": "Value metrics to agree before signing",
        "demo": "Demo script",
        "objections": "Common objections and answers",
        "answer": "Answer",
        "discovery": "Discovery questions",
        "fit": "Fit criteria",
        "good_fit": "Blockchain fits when",
        "poor_fit": "A shared database is better when",
        "alternative": "Offer instead",
        "measured": "How measured",
        "target": "target",
        "sep": ": ",
    },
}


def _bullets(items: list[Bilingual], lang: str) -> str:
    return "\n".join(f"- {item.get(lang)}" for item in items)


def _glossary(entry: GlossaryEntry, lang: str) -> str:
    lb = _LABELS[lang]
    aliases = entry.aliases_zh + entry.aliases_en if lang == "zh" else entry.aliases_en + entry.aliases_zh
    other = entry.title_en if lang == "zh" else entry.title_zh
    parts = [f"{entry.title(lang)} ({other})"]
    if aliases:
        parts.append(f"{lb['aliases']}{lb['sep']}{', '.join(aliases)}")
    for key in ("plain", "analogy", "outcome", "example", "avoid_when"):
        parts.append(f"### {lb[key]}\n{getattr(entry, key).get(lang)}")
    return "\n\n".join(parts)


def _risk(entry: RiskEntry, lang: str) -> str:
    lb = _LABELS[lang]
    li = 0 if lang == "zh" else 1
    category = RISK_CATEGORIES[entry.category][li]
    rises = ", ".join(SCENARIOS[s][li] for s in entry.rises_in)
    head = [
        f"{lb['category']}{lb['sep']}{category}",
        f"{lb['likelihood']} {entry.likelihood}/5, {lb['impact']} {entry.impact}/5",
        f"{lb['owner']}{lb['sep']}{_OWNER[entry.owner][li]}",
    ]
    if rises:
        head.append(f"{lb['rises_in']}{lb['sep']}{rises}")
    return "\n\n".join(
        [
            "\n".join(head),
            f"### {lb['description']}\n{entry.description.get(lang)}",
            f"### {lb['signals']}\n{_bullets(entry.signals, lang)}",
            f"### {lb['mitigations']}\n{_bullets(entry.mitigations, lang)}",
        ]
    )


def _playbook(entry: PlaybookEntry, lang: str) -> str:
    lb = _LABELS[lang]
    sep = lb["sep"]
    blocks = [
        f"### {lb['pains']}\n{_bullets(entry.pains, lang)}",
        f"### {lb['goals']}\n{_bullets(entry.goals, lang)}",
    ]
    for phase in entry.phases:
        months = lb["month"].format(start=phase.start_month, end=phase.end_month)
        kpis = "\n".join(
            f"- {k.name.get(lang)}{sep}{lb['target']} {k.target} {k.unit.get(lang)} "
            f"({lb['measured']}{sep}{k.how_measured.get(lang)})"
            for k in phase.kpis
        )
        blocks.append(
            f"### {lb['phases']}{sep}{phase.name.get(lang)} ({months})\n"
            f"{lb['deliverables']}{sep}\n{_bullets(phase.deliverables, lang)}\n"
            f"{lb['kpis']}{sep}\n{kpis}\n"
            f"{lb['buyer_tasks']}{sep}\n{_bullets(phase.buyer_tasks, lang)}\n"
            f"{lb['vendor_tasks']}{sep}\n{_bullets(phase.vendor_tasks, lang)}"
        )
    metrics = "\n".join(
        f"- {m.name.get(lang)} ({m.unit.get(lang)}){sep}{m.how_measured.get(lang)}" for m in entry.value_metrics
    )
    blocks.append(f"### {lb['value_metrics']}\n{metrics}")
    steps = "\n".join(f"{i}. {step.get(lang)}" for i, step in enumerate(entry.demo_script, 1))
    blocks.append(f"### {lb['demo']}\n{steps}")
    objections = "\n".join(
        f"- {o.objection.get(lang)}\n  {lb['answer']}{sep}{o.answer.get(lang)}" for o in entry.objections
    )
    blocks.append(f"### {lb['objections']}\n{objections}")
    blocks.append(f"### {lb['discovery']}\n{_bullets(entry.discovery_questions, lang)}")
    blocks.append(
        f"### {lb['fit']}\n{lb['good_fit']}{sep}\n{_bullets(entry.fit.good_fit, lang)}\n"
        f"{lb['poor_fit']}{sep}\n{_bullets(entry.fit.poor_fit, lang)}\n"
        f"{lb['alternative']}{sep}{entry.fit.alternative.get(lang)}"
    )
    return "\n\n".join(blocks)


def render_sections(entry: StructuredEntry) -> dict[str, str]:
    """Markdown text of a structured entry, one per language."""
    out: dict[str, str] = {}
    for lang in ("zh", "en"):
        if isinstance(entry, GlossaryEntry):
            out[lang] = _glossary(entry, lang)
        elif isinstance(entry, RiskEntry):
            out[lang] = _risk(entry, lang)
        else:
            out[lang] = _playbook(entry, lang)
    return out
