"""Vendor gaps: each deal need (a system to integrate, a constraint, a pain) the vendor profile does not cover.

The rep learns them before the buyer does. A need is covered only by what the profile lists:
- a system by an integration sharing a distinctive word with it ("SAP ERP" ~ "SAP"; generic words
  such as ERP or 系统 do not count on their own);
- a compliance regime by a certification or capability naming the regime (corpus/regimes.yaml names);
- a residency boundary by a deployment option using one of the boundary's words
  (data/boundaries.yaml), and never when `not_offered` names it;
- a pain by a capability close to it in meaning (the embedder, when there is one) or sharing words, or
  by a reference of the deal's scenario (the vendor has done this kind of project).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from copilot.corpus.lexicons import Regime
from copilot.deal import Deal
from copilot.reading.model import ParsedConstraint, VendorGap
from copilot.text.segment import tokenize
from copilot.vendor import VendorProfile
from copilot.wording import Wording

Encode = Callable[[list[str]], np.ndarray]
PAIN_SIMILARITY = 0.25
"""A capability at least this close to a pain (cosine of the multilingual embedder) covers it. Measured on the
example profile: a pain and the capability answering it score 0.3-0.45, unrelated pairs below 0.2."""
DATA = Path(__file__).resolve().parent / "data" / "gaps.yaml"


@cache
def generic_words() -> frozenset[str]:
    """Words too generic to tie a pain to a capability (data/gaps.yaml)."""
    return frozenset(str(w) for w in yaml.safe_load(DATA.read_text(encoding="utf-8"))["generic_words"])


def _words(text: str) -> set[str]:
    out = set()
    for token in tokenize(text.lower()):
        if len(token) < 2 and token.isascii():
            continue
        out.add(token)
    return out


def _system_covered(system: str, integrations: Sequence[str]) -> bool:
    mine = _words(system)
    distinctive = mine - generic_words() or mine
    theirs: set[str] = set()
    for item in integrations:
        theirs |= _words(item)
    whole = any(system.lower() in i.lower() or i.lower() in system.lower() for i in integrations)
    return whole or bool(distinctive & theirs)


def _mentions_any(names: Sequence[str], texts: Sequence[str]) -> bool:
    from copilot.reading.build import name_in

    return any(name_in(n, t) for n in names for t in texts)


def _boundary_gap(pc: ParsedConstraint, vendor: VendorProfile, say: Wording) -> VendorGap | None:
    from copilot.reading.build import boundaries, boundary_label

    if pc.boundary is None:
        return None
    listed = boundaries().get(pc.boundary, {}).get("deployment")
    words = [str(w) for w in listed] if isinstance(listed, list) else []
    for item in vendor.not_offered:
        if _mentions_any(words, [item]):
            return VendorGap(need=pc.text, kind="constraint", reason=say("gap.not_offered", item=item))
    if _mentions_any(words, vendor.deployment):
        return None
    label = boundary_label(pc.boundary, say.lang)
    return VendorGap(need=pc.text, kind="constraint", reason=say("gap.boundary", boundary=label))


def _regime_gap(pc: ParsedConstraint, vendor: VendorProfile, regimes: dict[str, Regime], say: Wording) -> VendorGap:
    regime = regimes.get(pc.regime or "")
    if regime is None:
        return VendorGap(need=pc.text, kind="constraint", reason=say("gap.regime_unknown"))
    return VendorGap(need=pc.text, kind="constraint", reason=say("gap.regime", regime=regime.name(say.lang)))


def _regime_covered(pc: ParsedConstraint, vendor: VendorProfile, regimes: dict[str, Regime]) -> bool:
    regime = regimes.get(pc.regime or "")
    texts = [*vendor.certifications, *vendor.capabilities]
    if regime is not None:
        return _mentions_any(regime.names.all(), texts)
    return any(pc.text.strip().lower() in t.lower() for t in texts)


def _pain_covered(pain: str, capabilities: Sequence[str], encode: Encode | None) -> bool:
    if not capabilities:
        return False
    if encode is not None:
        vectors = encode([pain, *capabilities])
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        return float((vectors[1:] @ vectors[0]).max()) >= PAIN_SIMILARITY
    mine = _words(pain) - generic_words()
    return any(len(mine & _words(c)) >= 2 for c in capabilities)


def vendor_gaps(
    deal: Deal,
    constraints: Sequence[ParsedConstraint],
    vendor: VendorProfile,
    regimes: dict[str, Regime],
    encode: Encode | None = None,
) -> list[VendorGap]:
    say = Wording("reading", deal.lang)
    gaps: list[VendorGap] = []
    for system in deal.systems:
        if not _system_covered(system, vendor.integrations):
            gaps.append(VendorGap(need=system, kind="system", reason=say("gap.system", need=system)))
    for pc in constraints:
        if pc.kind == "compliance" and not _regime_covered(pc, vendor, regimes):
            gaps.append(_regime_gap(pc, vendor, regimes, say))
        elif pc.kind == "data_residency":
            gap = _boundary_gap(pc, vendor, say)
            if gap is not None:
                gaps.append(gap)
    done_scenario = any(ref.scenario == deal.scenario for ref in vendor.references)
    for pain in [] if done_scenario else deal.pains:
        if not _pain_covered(pain, vendor.capabilities, encode):
            gaps.append(VendorGap(need=pain, kind="pain", reason=say("gap.pain")))
    return gaps
