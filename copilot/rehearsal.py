"""Per-scenario material computed before the first request: a rehearsal brief for each playbook.

A brief for a new deal embeds ~45-65 texts, and all but ~8 of them are the scenario's own material,
the same for every deal of that scenario: the playbook's objections and their answers, the risks,
the plan's phases and the fit criteria, each used as the query of a best-passage look-up (measured on
the 14 briefs of evals/datasets/skills.yaml, bench/skill_latency.py). The encoder remembers every
short text it embedded, so composing one offline brief per scenario and language, on a deal made only
of the playbook's own pains and goals, leaves the first real brief with only its deal's own texts to
embed. Every understanding classifier is built too (each embeds its labelled examples once).

A brief answers the three objections likeliest for its deal and cites the risks its region and answers
select: every playbook objection is answered too, and every risk entry's query embedded, so another
deal's choice finds them ready (counted on the 14 briefs: ~5 of the ~10 texts a brief still embedded).
What else is the same for every deal is prepared as well: the filter of lines about another chain type,
per chain type and language, and the whole-word patterns of every industry term and regime name.

Nothing is shown or kept but those caches; no model is asked (the rehearsal copilot is offline
whatever the settings say). `nego ui` runs it in its warm-up thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import get_args

from copilot.core import Copilot
from copilot.deal import ChainType, Deal
from copilot.grounding import Grounding
from copilot.reading.build import name_in
from copilot.skills.objection import objection_offline
from copilot.skills.risks import risk_query
from copilot.understand.examples import examples_path

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
CHAIN_TYPES: tuple[ChainType, ...] = get_args(ChainType)


def rehearsal_deal(copilot: Copilot, scenario: str, lang: str) -> Deal:
    """A deal of `scenario` in `lang` made only of its playbook's pains and goals (no customer)."""
    playbook = copilot.kb.playbook(scenario)
    return Deal.model_validate(
        {
            "scenario": scenario,
            "language": lang,
            "pains": [p.get(lang) for p in playbook.pains],
            "goals": [g.get(lang) for g in playbook.goals],
        }
    )


def classifier_names() -> list[str]:
    """Every labelled set of evals/datasets/understanding (`<name>.jsonl`, extra parts `<name>.<part>.jsonl`)."""
    folder = examples_path("routing").parent
    return sorted({path.name.split(".", 1)[0] for path in folder.glob("*.jsonl")})


def rehearse(copilot: Copilot, scenarios: Iterable[str] | None = None, langs: Iterable[str] = LANGS) -> int:
    """Compose an offline brief per scenario (default: every playbook's) and language; returns how many."""
    offline = Copilot(copilot.settings, copilot.kb, None, vendor=copilot.vendor)
    started = time.perf_counter()
    for name in classifier_names():  # the rehearsal deals do not need every classifier a real deal does
        copilot.kb.understanding.classifier(name)
    done = 0
    kb = copilot.kb
    for scenario in scenarios if scenarios is not None else sorted(kb.playbooks):
        for lang in langs:
            deal = rehearsal_deal(copilot, scenario, lang)
            offline.brief(deal)
            grounding = Grounding(kb, lang, deal.text())
            for objection in kb.playbook(scenario).objections:  # the brief answered its three likeliest
                objection_offline(kb, grounding, deal, objection.objection.get(lang), lang)
            done += 1
    kb.retriever.store.embedder.encode([risk_query(entry, lang) for entry in kb.risks for lang in langs])
    for chain_type in CHAIN_TYPES:
        for lang in langs:
            kb.line_matcher(chain_type, lang)
    names = [term for lexicon in kb.industries for lang in LANGS for term in lexicon.terms(lang)]
    for name in [*names, *(name for regime in kb.regimes for name in regime.names.all())]:
        name_in(name, "")  # compiles and keeps its whole-word pattern
    log.info("rehearsed %d briefs in %.1f s", done, time.perf_counter() - started)
    return done
