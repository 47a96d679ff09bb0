"""The warm-up rehearsal leaves a new deal's brief with only the deal's own texts to embed."""

from __future__ import annotations

from typing import Any

from copilot.core import Copilot
from copilot.deal import Deal
from copilot.index.store import ChunkStore
from copilot.knowledge import KnowledgeBase
from copilot.rehearsal import classifier_names, rehearsal_deal, rehearse

SCENARIO = "trade_finance"


def _fresh(shipped_index: Any) -> tuple[Copilot, list[int]]:
    """A copilot over the session's index with an encoder of its own (empty text cache), and a counter
    of the texts that encoder really embeds."""
    settings, _, _ = shipped_index
    kb = KnowledgeBase.open(settings, ChunkStore.open(settings))
    embedded = [0]
    embedder: Any = kb.retriever.store.embedder
    model = embedder._encoder()
    original = model.encode

    def counting(texts: list[str], *args: Any, **kwargs: Any) -> Any:
        embedded[0] += len(texts)
        return original(texts, *args, **kwargs)

    model.encode = counting
    return Copilot(settings, kb), embedded


def _new_deal() -> Deal:
    return Deal.model_validate(
        {
            "customer": "华东某外贸集团",
            "scenario": SCENARIO,
            "language": "zh",
            "pains": ["信用证审单要五天，单据在几家银行之间来回寄送"],
            "goals": ["审单时间缩短到一天以内"],
        }
    )


def test_a_rehearsed_scenario_leaves_only_the_deals_texts(shipped_index: Any) -> None:
    cold, cold_count = _fresh(shipped_index)
    cold.brief(_new_deal())

    warm, warm_count = _fresh(shipped_index)
    assert rehearse(warm, [SCENARIO], ["zh"]) == 1
    before = warm_count[0]
    brief = warm.brief(_new_deal())
    assert brief.citations
    # measured: ~50 texts cold, ~10 after the rehearsal (the deal's own sentences and queries)
    assert warm_count[0] - before < cold_count[0] / 2


def test_the_rehearsal_never_asks_a_model(shipped_index: Any) -> None:
    copilot, _ = _fresh(shipped_index)

    class Refusing:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the rehearsal used the model ({name})")

    llm = Copilot(copilot.settings, copilot.kb, Refusing())
    assert rehearse(llm, [SCENARIO], ["en"]) == 1
    assert set(classifier_names()) >= {"constraints", "objections", "routing"}


def test_the_rehearsal_deal_is_the_playbooks_own(shipped_index: Any) -> None:
    copilot, _ = _fresh(shipped_index)
    deal = rehearsal_deal(copilot, SCENARIO, "en")
    playbook = copilot.kb.playbook(SCENARIO)
    assert deal.customer is None and deal.lang == "en"
    assert deal.pains == [p.en for p in playbook.pains]
