"""The meeting brief: everything a rep needs for one meeting, composed from the other skills.

Opening, talking points (each with its proof), the business story, a demo script
from the scenario playbook, objections with answers, the risk checklist, the
milestone plan, the fit verdict, discovery questions and next steps. All parts
share one Grounding, so the brief's citations are the union of its parts'.
"""

from __future__ import annotations

from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.reading.model import DealReading
from copilot.results import BriefResult, Citation, TalkingPoint
from copilot.skills.explain import explain_offline
from copilot.skills.fit import fit_offline
from copilot.skills.health import deal_health, render_health
from copilot.skills.objection import objection_offline
from copilot.skills.passages import sources_section
from copilot.skills.plan import plan_offline
from copilot.skills.risks import risks_offline
from copilot.skills.shaping import budget_next_step
from copilot.vocabulary import SCENARIOS

MAX_OBJECTIONS = 3

_NEXT_STEPS: dict[str, dict[str, list[str]]] = {
    "discovery": {
        "zh": [
            "约定一次流程梳理工作坊，双方业务、IT 和法务一起参加。",
            "请对方提供当前流程的基线数据（耗时、差错、成本），作为后续衡量的起点。",
            "确认决策链和预算周期，明确下一次会议的参会人。",
        ],
        "en": [
            "Agree on a process-mapping workshop with business, IT and legal from both sides.",
            "Ask for baseline figures of today's process (time, errors, cost): the starting point for measuring value.",
            "Confirm the decision chain and budget cycle, and who attends the next meeting.",
        ],
    },
    "proposal": {
        "zh": [
            "确定试点范围、参与方和成功标准，写进方案。",
            "签约前共同确认价值指标及其衡量方式。",
            "安排一次用真实角色的原型演示。",
        ],
        "en": [
            "Fix the pilot scope, participants and success criteria in the proposal.",
            "Agree the value metrics and how they are measured before signing.",
            "Schedule a prototype demo with real roles from the buyer's side.",
        ],
    },
    "negotiation": {
        "zh": [
            "把治理安排、数据可迁移和退出条款写进合同。",
            "明确分阶段验收和付款节点，与里程碑 KPI 挂钩。",
            "请双方法务确认监管要求（备案、数据出境、个人信息）的责任分工。",
        ],
        "en": [
            "Put governance, data portability and exit terms into the contract.",
            "Tie staged acceptance and payments to the milestone KPIs.",
            "Have both legal teams confirm who owns each regulatory duty (filing, data export, personal data).",
        ],
    },
    "closing": {
        "zh": [
            "确定项目启动会的时间和双方负责人。",
            "锁定第一阶段的交付物和验收标准。",
            "约定每季度的价值复盘机制。",
        ],
        "en": [
            "Set the kick-off meeting and name the owners on both sides.",
            "Lock the first phase's deliverables and acceptance criteria.",
            "Agree the quarterly value review.",
        ],
    },
}


def _opening(deal: Deal, lang: str) -> str:
    scenario = SCENARIOS[deal.scenario][0 if lang == "zh" else 1]
    audience = "、".join(deal.audience) if lang == "zh" else ", ".join(deal.audience)
    pain = deal.pains[0] if deal.pains else ""
    if lang == "zh":
        who = f"（{audience}）" if audience else ""
        focus = f"围绕“{pain}”这个问题，" if pain else ""
        return (
            f"感谢{deal.who(lang)}{who}的时间。今天我们{focus}先确认贵方希望达到的可衡量目标，"
            f"再用同行业真实案例说明{scenario}场景里区块链能改变什么、不能改变什么，最后一起看分阶段计划和风险。"
        )
    who = f" ({audience})" if audience else ""
    focus = f' on "{pain}"' if pain else ""
    return (
        f"Thank you, {deal.who(lang)}{who}, for your time. Today we would like to focus{focus}: first confirm the "
        f"measurable goal you want to reach, then show with real cases what blockchain changes in {scenario.lower()} "
        f"and what it does not, and finally walk through a phased plan and its risks together."
    )


def _ids(citations: list[Citation]) -> list[str]:
    out: list[str] = []
    for c in citations:
        if c.doc_id not in out:
            out.append(c.doc_id)
    return out


def brief_offline(
    kb: KnowledgeBase,
    g: Grounding,
    deal: Deal,
    lang: str,
    horizon_months: int | None = 12,
    reading: DealReading | None = None,
) -> BriefResult:
    playbook = kb.playbook(deal.scenario)
    story_input = "\n".join(deal.pains + deal.goals) or playbook.pains[0].get(lang)
    story = explain_offline(kb, g, deal, story_input, lang)
    fit = fit_offline(kb, g, deal)
    risks = risks_offline(kb, g, deal, reading)
    plan = plan_offline(kb, g, deal, horizon_months, reading)
    objections = [objection_offline(kb, g, deal, o.objection.get(lang), lang) for o in playbook.objections]
    objections = objections[:MAX_OBJECTIONS]

    demo_hit = g.passage(playbook.id, "演示脚本 demo script")
    if demo_hit is not None:
        g.cite(demo_hit)
    discovery_hit = g.passage(playbook.id, "探询问题 discovery questions")
    if discovery_hit is not None:
        g.cite(discovery_hit)

    talking_points = [
        TalkingPoint(point=story.what_changes, proof=_ids(story.citations)),
        TalkingPoint(point=story.proof, proof=_ids(story.citations)),
        TalkingPoint(point=fit.reasons[0] if fit.reasons else fit.text, proof=_ids(fit.citations)),
    ]
    if risks.items:
        top = risks.items[0]
        talking_points.append(
            TalkingPoint(point=f"{top.risk}: {top.mitigations[0]}", proof=top.evidence or [top.risk_id])
        )
    if plan.phases:
        first = plan.phases[0]
        kpi = first.kpis[0]
        point = (
            f"{first.name}：{'；'.join(first.deliverables[:2])}（{kpi.name}）"
            if lang == "zh"
            else f"{first.name}: {'; '.join(first.deliverables[:2])} ({kpi.name})"
        )
        talking_points.append(TalkingPoint(point=point, proof=_ids(plan.citations)))

    result = BriefResult(
        language=lang,  # type: ignore[arg-type]
        customer=deal.who(lang),
        opening=_opening(deal, lang),
        talking_points=talking_points,
        story=story,
        demo_script=[step.get(lang) for step in playbook.demo_script],
        objections=objections,
        risks=risks,
        plan=plan,
        fit=fit,
        discovery_questions=[q.get(lang) for q in playbook.discovery_questions],
        next_steps=[*budget_next_step(reading), *_NEXT_STEPS[deal.stage][lang]],
        health=deal_health(kb, deal, lang),
        citations=g.citations,
        notices=[n for part in (story, fit, risks, plan, *objections) for n in part.notices],
    )
    return result.model_copy(update={"text": render_brief(result, kb)})


_HEADINGS = {
    "zh": {
        "title": "会议简报",
        "opening": "开场",
        "points": "核心观点",
        "story": "业务故事",
        "demo": "演示脚本",
        "objections": "异议与回应",
        "risks": "风险清单",
        "plan": "里程碑计划",
        "fit": "适用性判断",
        "questions": "探询问题",
        "next": "下一步",
        "proof": "依据",
        "concern": "真实顾虑",
        "ask_back": "反问",
    },
    "en": {
        "title": "Meeting brief",
        "opening": "Opening",
        "points": "Talking points",
        "story": "The story",
        "demo": "Demo script",
        "objections": "Objections and answers",
        "risks": "Risk checklist",
        "plan": "Milestone plan",
        "fit": "Fit",
        "questions": "Discovery questions",
        "next": "Next steps",
        "proof": "proof",
        "concern": "Underlying concern",
        "ask_back": "Ask back",
    },
}


def _section_body(text: str) -> str:
    """A part's own Markdown without its title heading and its sources list (the brief has one of each).

    The part's remaining headings are shifted so the shallowest is level three, nesting under the
    brief's own section heading.
    """
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
    body: list[str] = []
    for line in lines:
        stripped = line.strip()
        title = stripped.lstrip("#").strip().lower()
        if stripped.startswith("#") and title in {"来源", "sources"}:
            break
        if stripped.startswith(("**来源", "**sources", "**Sources")):
            break
        body.append(line)
    levels = [len(line) - len(line.lstrip("#")) for line in body if line.startswith("#")]
    shift = 3 - min(levels) if levels else 0
    shifted = [("#" * shift + line) if shift > 0 and line.startswith("#") else line for line in body]
    return "\n".join(shifted).strip()


def render_brief(brief: BriefResult, kb: KnowledgeBase) -> str:
    lang = brief.language
    h = _HEADINGS[lang]
    sep = "：" if lang == "zh" else ": "
    parts = [f"# {h['title']}{sep}{brief.customer}", f"## {h['opening']}\n{brief.opening}"]
    points = []
    for p in brief.talking_points:
        proof = ", ".join(kb.title(doc_id, lang) for doc_id in p.proof[:3])
        points.append(f"- {p.point}" + (f"（{h['proof']}{sep}{proof}）" if lang == "zh" and proof else ""))
        if lang == "en" and proof:
            points[-1] += f" ({h['proof']}: {proof})"
    parts.append(f"## {h['points']}\n" + "\n".join(points))
    parts.append(f"## {h['story']}\n{_section_body(brief.story.text)}")
    parts.append(f"## {h['demo']}\n" + "\n".join(f"- {step}" for step in brief.demo_script))
    objections = []
    for o in brief.objections:
        objections.append(
            f"### {o.objection}\n- {h['concern']}{sep}{o.concern}\n- {o.response}\n"
            f"- {h['ask_back']}{sep}{o.question_back}"
        )
    parts.append(f"## {h['objections']}\n" + "\n\n".join(objections))
    parts.append(f"## {h['risks']}\n{_section_body(brief.risks.text)}")
    parts.append(f"## {h['plan']}\n{_section_body(brief.plan.text)}")
    parts.append(f"## {h['fit']}\n{_section_body(brief.fit.text)}")
    parts.append(f"## {h['questions']}\n" + "\n".join(f"- {q}" for q in brief.discovery_questions))
    parts.append(f"## {h['next']}\n" + "\n".join(f"- {s}" for s in brief.next_steps))
    if brief.health is not None:
        parts.append(render_health(brief.health))
    parts.append(sources_section(brief.citations, lang))
    return "\n\n".join(parts) + "\n"
