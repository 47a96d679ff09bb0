"""Per-scenario material computed before the first request: a rehearsal brief for each playbook.

A brief for a new deal embeds ~45-65 texts, and all but ~8 of them are the scenario's own material,
the same for every deal of that scenario: the playbook's objections and their answers, the risks,
the plan's phases and the fit criteria, each used as the query of a best-passage look-up (measured on
the 14 briefs of evals/datasets/skills.yaml, bench/skill_latency.py). The encoder remembers every
short text it embedded, so composing one offline brief per scenario and language, on a deal made only
of the playbook's own pains and goals, leaves the first real brief with only its deal's own texts to
embed. Every understanding classifier is built too (each embeds its labelled examples once).

Nothing is shown or kept but those caches; no model is asked (the rehearsal copilot is offline
whatever the settings say). `nego ui` runs it in its warm-up thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from copilot.core import Copilot
from copilot.deal import Deal
from copilot.understand.examples import examples_path

log = logging.getLogger(__name__)

LANGS = ("zh", "en")


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
    for scenario in scenarios if scenarios is not None else sorted(copilot.kb.playbooks):
        for lang in langs:
            offline.brief(rehearsal_deal(copilot, scenario, lang))
            done += 1
    log.info("rehearsed %d briefs in %.1f s", done, time.perf_counter() - started)
    return done
