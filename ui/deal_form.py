"""The deal panel: the same fields in the chat tab and the brief tab, turned into a core `Deal`.

List fields (audience, pains, goals, systems) take one item per line. Empty
fields are left out, so the core's defaults and its language detection apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from copilot.deal import Deal, deal_from_data
from copilot.vocabulary import REGIONS, SCENARIOS

STAGES = {
    "discovery": ("探询", "Discovery"),
    "proposal": ("方案", "Proposal"),
    "negotiation": ("谈判", "Negotiation"),
    "closing": ("成交", "Closing"),
}
LANGUAGE_CHOICES = [("自动 Auto", "auto"), ("中文", "zh"), ("English", "en")]
DEFAULT_CUSTOMER = {"zh": "客户", "en": "the customer"}
FIELDS = (
    "customer",
    "industry",
    "scenario",
    "region",
    "language",
    "audience",
    "pains",
    "goals",
    "systems",
    "budget",
    "timeline",
    "stage",
)


@dataclass
class DealForm:
    customer: gr.Textbox
    industry: gr.Textbox
    scenario: gr.Dropdown
    region: gr.Dropdown
    language: gr.Dropdown
    audience: gr.Textbox
    pains: gr.Textbox
    goals: gr.Textbox
    systems: gr.Textbox
    budget: gr.Textbox
    timeline: gr.Textbox
    stage: gr.Dropdown

    def components(self) -> list[Any]:
        return [getattr(self, name) for name in FIELDS]


def _choices(table: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    return [(f"{zh} · {en}", key) for key, (zh, en) in table.items()]


def deal_form(prefix: str) -> DealForm:
    """Create the deal fields in the current Blocks context; elem_ids start with `prefix`."""

    def box(name: str, label: str, lines: int = 1, placeholder: str = "") -> gr.Textbox:
        return gr.Textbox(label=label, lines=lines, max_lines=8, placeholder=placeholder, elem_id=f"{prefix}-{name}")

    customer = box("customer", "客户 Customer", placeholder="鲜果供应链集团 / Acme Foods")
    industry = box("industry", "行业 Industry")
    with gr.Row():
        scenario = gr.Dropdown(
            _choices(SCENARIOS), value="traceability", label="场景 Scenario", elem_id=f"{prefix}-scenario"
        )
        region = gr.Dropdown(_choices(REGIONS), value="cn", label="地区 Region", elem_id=f"{prefix}-region")
    with gr.Row():
        stage = gr.Dropdown(_choices(STAGES), value="discovery", label="阶段 Stage", elem_id=f"{prefix}-stage")
        language = gr.Dropdown(LANGUAGE_CHOICES, value="auto", label="语言 Language", elem_id=f"{prefix}-language")
    audience = box("audience", "在场角色 Audience (one per line)", 2, "CFO\n质量总监")
    pains = box("pains", "痛点 Pains (one per line)", 3)
    goals = box("goals", "目标 Goals (one per line, with the buyer's numbers)", 2)
    systems = box("systems", "现有系统 Systems (one per line)", 1)
    with gr.Row():
        budget = box("budget", "预算 Budget")
        timeline = box("timeline", "时间 Timeline")
    return DealForm(
        customer, industry, scenario, region, language, audience, pains, goals, systems, budget, timeline, stage
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def form_values(*values: Any) -> dict[str, Any]:
    """The deal panel's component values (in FIELDS order) by field name."""
    return dict(zip(FIELDS, values, strict=True))


def deal_from_values(values: dict[str, Any], message_lang: str | None = None) -> Deal:
    """Build the deal from the form's values; raises DealError naming the field that is wrong."""
    data: dict[str, Any] = {"scenario": values.get("scenario") or "traceability"}
    for name in ("industry", "region", "stage"):
        value = (values.get(name) or "").strip()
        if value:
            data[name] = value
    language = values.get("language") or "auto"
    if language != "auto":
        data["language"] = language
    for name in ("audience", "pains", "goals", "systems"):
        items = _lines(values.get(name))
        if items:
            data[name] = items
    constraints = {k: (values.get(k) or "").strip() for k in ("budget", "timeline")}
    if any(constraints.values()):
        data["constraints"] = {k: v for k, v in constraints.items() if v}
    customer = (values.get("customer") or "").strip()
    if customer:
        data["customer"] = customer
    else:
        # No name given: address the customer generically, in the language the deal will be in.
        lang = data.get("language") or message_lang or deal_from_data(data, "deal").lang
        data["customer"] = DEFAULT_CUSTOMER.get(lang, DEFAULT_CUSTOMER["en"])
    return deal_from_data(data, "deal")


def values_from_deal(deal: Deal | dict[str, Any] | None) -> list[Any]:
    """The form's values for a deal (e.g. a loaded deal file or a resumed conversation), in FIELDS order."""
    if deal is None:
        return [gr.skip()] * len(FIELDS)
    data = deal.model_dump() if isinstance(deal, Deal) else dict(deal)
    constraints = data.get("constraints") or {}
    out: dict[str, Any] = {
        "customer": data.get("customer") or "",
        "industry": data.get("industry") or "",
        "scenario": data.get("scenario") or "traceability",
        "region": data.get("region") or "cn",
        "language": data.get("language") or "auto",
        "audience": "\n".join(data.get("audience") or []),
        "pains": "\n".join(data.get("pains") or []),
        "goals": "\n".join(data.get("goals") or []),
        "systems": "\n".join(data.get("systems") or []),
        "budget": constraints.get("budget") or "",
        "timeline": constraints.get("timeline") or "",
        "stage": data.get("stage") or "discovery",
    }
    return [out[name] for name in FIELDS]
