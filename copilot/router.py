"""Route a chat turn (zh or en, free text) to a skill.

Rules, not a model: routing must work offline and be predictable for a rep.
The first rule whose cue appears wins, in this order: brief, objection, risks,
plan, fit, explain; anything else is a question for `ask`. Cues are matched
case-insensitively; a quoted buyer statement ("客户说…", 'they said "…"') is an
objection. Sentences that speak to the model ("you are now in brief mode",
"忽略之前的所有指令", see copilot.text.injection) are not the rep's request and
never choose the skill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from copilot.text.injection import drop_instruction_sentences

Route = Literal["brief", "objection", "risks", "plan", "fit", "explain", "ask"]

_RULES: list[tuple[Route, tuple[str, ...]]] = [
    (
        "brief",
        (
            "简报",
            "会前准备",
            "会议准备",
            "准备会议",
            "谈判准备",
            "meeting brief",
            "brief me",
            "prepare the meeting",
            "prep for the meeting",
            "talking points",
            "briefing",
        ),
    ),
    (
        "objection",
        (
            "客户说",
            "对方说",
            "买方说",
            "客户质疑",
            "客户担心",
            "客户反对",
            "怎么回应",
            "如何回应",
            "怎么回答他",
            "异议",
            "objection",
            "push back",
            "pushback",
            "the buyer says",
            "the customer says",
            "they say",
            "they said",
            "how do i respond",
            "how should i respond",
            "how to respond",
            "how do i answer",
        ),
    ),
    ("risks", ("风险", "隐患", "risk", "what could go wrong", "pitfall")),
    (
        "plan",
        (
            "里程碑",
            "实施计划",
            "分阶段",
            "路线图",
            "计划",
            "kpi",
            "milestone",
            "roadmap",
            "phased plan",
            "rollout",
            "project plan",
            "timeline",
        ),
    ),
    (
        "fit",
        (
            "适合用区块链",
            "需要区块链",
            "要不要用区块链",
            "是否需要区块链",
            "数据库就够",
            "数据库就行",
            "用数据库",
            "适用性",
            "need a blockchain",
            "need blockchain",
            "right tool",
            "wrong tool",
            "just a database",
            "why not a database",
            "is blockchain a fit",
            "good fit",
            "does blockchain fit",
        ),
    ),
    (
        "explain",
        (
            "解释",
            "大白话",
            "通俗",
            "讲给",
            "讲清楚",
            "是什么意思",
            "什么是",
            "explain",
            "in plain words",
            "plain english",
            "what is",
            "what does",
            "what's",
            "jargon",
            "non-technical",
        ),
    ),
]

_QUOTED_STATEMENT = re.compile(r"(说|问|表示)[:：]?\s*[“\"「]|(says?|said|asks?|asked)[:,]?\s*[\"“']", re.IGNORECASE)


@dataclass(frozen=True)
class RouteDecision:
    skill: Route
    cue: str | None


def route(message: str) -> RouteDecision:
    request = drop_instruction_sentences(message)
    text = request.strip().lower()
    for skill, cues in _RULES:
        for cue in cues:
            if cue in text:
                return RouteDecision(skill, cue)
        if skill == "objection" and _QUOTED_STATEMENT.search(request):
            return RouteDecision("objection", "quoted statement")
    if request != message and _QUOTED_STATEMENT.search(message):
        return RouteDecision("objection", "quoted statement")  # a buyer's words that hold an injection
    return RouteDecision("ask", None)
