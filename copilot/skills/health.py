"""Deal health: an explainable scorecard inspired by MEDDICC, plus three blockchain-specific items.

Metrics, economic buyer, decision criteria, decision process, pain, champion, competition,
consortium partners committed, data owners identified, regulator filing path. Each item is green,
amber or red, with the reason (the deal's own words it rests on) and the question that would close
it. There is no single score on purpose: a rep fixes items, not a number.

Metrics and pain are read from explicit fields (goals and pains, with or without the buyer's own
figures). The other items are read from the deal's sentences (who is at the table, pains, goals,
systems, constraints, and any later notes such as meeting recaps) with the shared classifier over
evals/datasets/understanding/health.jsonl: a sentence about a topic makes the item green, the same
topic negated ("nobody inside is championing it") makes it red, and nothing known leaves it amber
or red depending on what the item needs at this stage. Every sentence comes from
prompts/offline/<lang>/health.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from copilot.deal import Deal
from copilot.knowledge import KnowledgeBase
from copilot.results import BriefResult, DealHealth, HealthItem
from copilot.text.numbers import find_figures
from copilot.wording import Wording

DATASET = "health"
ITEMS = (
    "metrics",
    "economic_buyer",
    "decision_criteria",
    "decision_process",
    "pain",
    "champion",
    "competition",
    "partners_committed",
    "data_owners",
    "regulator_path",
)
MAX_QUOTES = 2
LATE_STAGES = ("negotiation", "closing")


@dataclass(frozen=True)
class Signal:
    text: str
    label: str
    negated: bool


def _signals(kb: KnowledgeBase, texts: Sequence[str]) -> list[Signal]:
    out = []
    for text in dict.fromkeys(t.strip() for t in texts if t.strip()):
        found = kb.understanding.classify(DATASET, text)
        if not found.unsure and found.label in ITEMS:
            out.append(Signal(text, found.label, found.negated))
    return out


def _quotes(texts: Sequence[str], lang: str) -> str:
    mark = ("“", "”") if lang == "zh" else ('"', '"')
    sep = "；" if lang == "zh" else "; "
    return sep.join(f"{mark[0]}{t}{mark[1]}" for t in texts[:MAX_QUOTES])


def _has_figure(text: str) -> bool:
    return bool(find_figures(text))


class _Card:
    def __init__(self, deal: Deal, signals: list[Signal], w: Wording) -> None:
        self.deal = deal
        self.signals = signals
        self.w = w
        self.lang = deal.lang

    def item(self, key: str, status: str, reason: str, evidence: Sequence[str] = ()) -> HealthItem:
        return HealthItem(
            key=key,
            label=self.w(f"label.{key}"),
            status=status,  # type: ignore[arg-type]
            reason=reason,
            question=self.w(f"question.{key}"),
            evidence=list(evidence),
        )

    def quoted(self, key: str, texts: Sequence[str]) -> str:
        return self.w(key, quotes=_quotes(texts, self.lang))

    def from_signals(self, key: str, otherwise: tuple[str, str, Sequence[str]]) -> HealthItem:
        """Green on a sentence about the item, red on one that negates it, else `otherwise`."""
        pro = [s.text for s in self.signals if s.label == key and not s.negated]
        con = [s.text for s in self.signals if s.label == key and s.negated]
        if pro:
            return self.item(key, "green", self.quoted("reason.found", pro), pro)
        if con:
            return self.item(key, "red", self.quoted("reason.against", con), con)
        status, reason, evidence = otherwise
        return self.item(key, status, reason, evidence)

    def counted(self, key: str, texts: list[str], prefix: str) -> HealthItem:
        numbered = [t for t in texts if _has_figure(t)]
        if numbered:
            return self.item(key, "green", self.quoted(f"reason.{prefix}_numbers", numbered), numbered)
        if texts:
            return self.item(key, "amber", self.quoted(f"reason.{prefix}_vague", texts), texts)
        return self.item(key, "red", self.w(f"reason.{prefix}_none"))


def deal_health(kb: KnowledgeBase, deal: Deal, lang: str | None = None, notes: Sequence[str] = ()) -> DealHealth:
    """The scorecard of `deal` in `lang` (default: the deal's); `notes` are later words (e.g. recaps)."""
    lang = lang or deal.lang
    deal = deal if deal.lang == lang else deal.model_copy(update={"language": lang})
    w = Wording("health", lang)
    texts = [*deal.audience, *deal.pains, *deal.goals, *deal.systems, *deal.constraints.texts(), *notes]
    card = _Card(deal, _signals(kb, texts), w)
    constraints = deal.constraints
    compliance = [t for t, kind in constraints.declared() if kind in ("compliance", "data_residency")]
    timeline = [constraints.timeline] if constraints.timeline else []
    late = deal.stage in LATE_STAGES
    items = [
        card.counted("metrics", list(deal.goals), "metrics"),
        card.from_signals(
            "economic_buyer",
            ("amber", w("reason.economic_buyer_none"), ())
            if deal.audience
            else ("red", w("reason.economic_buyer_no_audience"), ()),
        ),
        card.from_signals(
            "decision_criteria",
            ("amber", card.quoted("reason.decision_criteria_constraints", constraints.texts()), constraints.texts())
            if constraints.texts()
            else ("red", w("reason.decision_criteria_none"), ()),
        ),
        card.from_signals(
            "decision_process",
            ("amber", card.quoted("reason.decision_process_timeline", timeline), timeline)
            if timeline
            else ("red" if late else "amber", w("reason.decision_process_none"), ()),
        ),
        card.counted("pain", list(deal.pains), "pain"),
        card.from_signals("champion", ("red" if late else "amber", w("reason.champion_none"), ())),
        _competition(card, late),
        card.from_signals("partners_committed", ("amber", w("reason.partners_none"), ())),
        card.from_signals(
            "data_owners",
            ("amber", card.quoted("reason.data_owners_systems", deal.systems), deal.systems)
            if deal.systems
            else ("red", w("reason.data_owners_none"), ()),
        ),
        card.from_signals(
            "regulator_path",
            ("amber", card.quoted("reason.regulator_compliance", compliance), compliance)
            if compliance
            else ("red" if late else "amber", w("reason.regulator_none"), ()),
        ),
    ]
    return DealHealth(language=lang, items=items)  # type: ignore[arg-type]


def _competition(card: _Card, late: bool) -> HealthItem:
    """Known competition is green whether or not there is any: "we are the only vendor" is known too."""
    known = [s.text for s in card.signals if s.label == "competition"]
    if known:
        return card.item("competition", "green", card.quoted("reason.found", known), known)
    if late:
        return card.item("competition", "red", card.w("reason.competition_none_late"))
    return card.item("competition", "amber", card.w("reason.competition_none"))


def with_health(brief: BriefResult, kb: KnowledgeBase, deal: Deal, render: Callable[[BriefResult], str]) -> BriefResult:
    """The brief with its scorecard: a model's brief gets the code's (the model never writes it), re-rendered."""
    if brief.health is not None:
        return brief
    brief = brief.model_copy(update={"health": deal_health(kb, deal, deal.lang)})
    return brief.model_copy(update={"text": render(brief)})


def render_health(health: DealHealth, level: int = 2) -> str:
    """The scorecard as Markdown: a heading, one line per item (status, reason) and its closing question."""
    w = Wording("health", health.language)
    lines = [f"{'#' * level} {w('heading')}", w("intro"), ""]
    for item in health.items:
        lines.append(f"- **{item.label}** {w(f'status.{item.status}')}: {item.reason}")
        if item.status != "green":
            lines.append(f"  - {item.question}")
    return "\n".join(lines)
