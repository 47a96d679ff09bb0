"""The deal panel: the same fields in the chat tab and the brief tab, turned into a core `Deal`.

List fields (audience, pains, goals, systems) take one item per line; so do the other constraints
(compliance, residency, network boundary…: free text the copilot classifies, shown back in the reading
panel, ui/reading_panel.py). Empty
fields are left out, so the core's defaults and its language detection apply; no
placeholder (such as a generic customer name) is ever stored. Labels and choices
are in the interface language (ui/labels.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from copilot.deal import Deal, deal_from_data
from copilot.long_input import cut_item
from copilot.results import Notice
from copilot.text.lang import detect_language
from copilot.vocabulary import REGIONS, SCENARIOS
from ui.labels import Labels, ui_text

STAGES = ("discovery", "proposal", "negotiation", "closing")
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
    "constraints",
)
"""In this order the deal panel's values reach the API (`constraints`: the other constraints, one per line)."""
LIST_FIELDS = ("audience", "pains", "goals", "systems")


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
    constraints: gr.Textbox

    def components(self) -> list[Any]:
        return [getattr(self, name) for name in FIELDS]


def _choices(table: dict[str, tuple[str, str]]) -> Callable[[str], list[tuple[str, str]]]:
    """Dropdown choices in one language (the value stays the key)."""

    def choices(lang: str) -> list[tuple[str, str]]:
        return [(zh if lang == "zh" else en, key) for key, (zh, en) in table.items()]

    return choices


def _language_choices(lang: str) -> list[tuple[str, str]]:
    return [(ui_text(lang, "deal.language_auto"), "auto"), ("中文", "zh"), ("English", "en")]


def deal_form(prefix: str, labels: Labels) -> DealForm:
    """Create the deal fields in the current Blocks context; elem_ids start with `prefix`."""
    lang = labels.lang

    def box(name: str, lines: int = 1, placeholder: str = "") -> gr.Textbox:
        box = gr.Textbox(
            label=labels.t(f"deal.{name}"),
            lines=lines,
            max_lines=8,
            placeholder=placeholder,
            elem_id=f"{prefix}-{name}",
        )
        return labels.reg(box, label=f"deal.{name}")

    customer = labels.reg(
        gr.Textbox(
            label=labels.t("deal.customer"),
            placeholder=labels.t("deal.customer_placeholder"),
            elem_id=f"{prefix}-customer",
        ),
        label="deal.customer",
        placeholder="deal.customer_placeholder",
    )
    industry = box("industry")
    pains = box("pains", 3)
    with gr.Row():
        scenario_choices, region_choices, stage_choices = (
            _choices(SCENARIOS),
            _choices(REGIONS),
            _choices({key: (ui_text("zh", f"stage.{key}"), ui_text("en", f"stage.{key}")) for key in STAGES}),
        )
        scenario = labels.reg(
            gr.Dropdown(
                scenario_choices(lang),
                value="traceability",
                label=labels.t("deal.scenario"),
                elem_id=f"{prefix}-scenario",
            ),
            label="deal.scenario",
            choices=scenario_choices,
        )
        region = labels.reg(
            gr.Dropdown(region_choices(lang), value="cn", label=labels.t("deal.region"), elem_id=f"{prefix}-region"),
            label="deal.region",
            choices=region_choices,
        )
    with gr.Row():
        stage = labels.reg(
            gr.Dropdown(
                stage_choices(lang), value="discovery", label=labels.t("deal.stage"), elem_id=f"{prefix}-stage"
            ),
            label="deal.stage",
            choices=stage_choices,
        )
        language = labels.reg(
            gr.Dropdown(
                _language_choices(lang), value="auto", label=labels.t("deal.language"), elem_id=f"{prefix}-language"
            ),
            label="deal.language",
            choices=_language_choices,
        )
    audience = box("audience", 2, "CFO")
    goals = box("goals", 2)
    systems = box("systems", 1)
    with gr.Row():
        budget = box("budget")
        timeline = box("timeline")
    constraints = labels.reg(
        gr.Textbox(
            label=labels.t("deal.constraints"),
            lines=2,
            max_lines=8,
            placeholder=labels.t("deal.constraints_placeholder"),
            elem_id=f"{prefix}-constraints",
        ),
        label="deal.constraints",
        placeholder="deal.constraints_placeholder",
    )
    return DealForm(
        customer,
        industry,
        scenario,
        region,
        language,
        audience,
        pains,
        goals,
        systems,
        budget,
        timeline,
        stage,
        constraints,
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def form_values(*values: Any) -> dict[str, Any]:
    """The deal panel's component values (in FIELDS order) by field name."""
    return dict(zip(FIELDS, values, strict=True))


def deal_from_values(values: dict[str, Any], message_lang: str | None = None) -> Deal:
    """Build the deal from the form's values; raises DealError naming the field that is wrong."""
    return read_form(values, message_lang).deal


@dataclass(frozen=True)
class FormReading:
    """The deal of a form, and what was done to make it one: items cut to length, and their rest."""

    deal: Deal
    notices: list[Notice]
    rest: str


def read_form(values: dict[str, Any], message_lang: str | None = None, ui_lang: str | None = None) -> FormReading:
    """The deal from the form's values: nothing placeholder is stored (no customer name invented), the
    language follows the conversation when left on auto, and an item too long for the deal is cut with a
    notice (in the user's language) instead of refused. Raises DealError naming a field that is wrong."""
    data: dict[str, Any] = {"scenario": values.get("scenario") or "traceability"}
    for name in ("customer", "industry", "region", "stage"):
        value = (values.get(name) or "").strip()
        if value:
            data[name] = value
    language = values.get("language") or "auto"
    if language != "auto":
        data["language"] = language
    elif message_lang in ("zh", "en"):
        data["language"] = message_lang
    texts = " ".join(str(values.get(n) or "") for n in FIELDS if n not in ("scenario", "region", "stage", "language"))
    lang = str(data.get("language") or ui_lang or detect_language(texts, default="zh"))
    notices: list[Notice] = []
    rests: list[str] = []

    def fitted(field: str, items: list[str]) -> list[str]:
        out = []
        for n, item in enumerate(items, 1):
            cut = cut_item(item, ui_text(lang, f"deal.{field}").split("（")[0].split(" (")[0], n, lang)
            out.append(cut.kept)
            if cut.notice:
                notices.append(cut.notice)
                rests.append(cut.rest)
        return out

    for name in LIST_FIELDS:
        items = _lines(values.get(name))
        if items:
            data[name] = fitted(name, items)
    given = {k: str(values.get(k) or "").strip() for k in ("budget", "timeline")}
    constraints: dict[str, Any] = {k: fitted(k, [v])[0] for k, v in given.items() if v}
    others = _lines(values.get("constraints"))
    if others:  # free text: copilot.reading classifies each line
        constraints["sentences"] = fitted("constraints", others)
    if constraints:
        data["constraints"] = constraints
    return FormReading(deal_from_data(data, "deal"), notices, "\n\n".join(rests))


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
        "constraints": "\n".join(
            t for k in ("compliance", "data_residency", "other", "sentences") for t in constraints.get(k) or []
        ),
    }
    return [out[name] for name in FIELDS]
