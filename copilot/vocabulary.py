"""Fixed vocabularies shared by the corpus, the index and the skills.

Scenario keys, regions, document types and risk categories are closed sets: a
document that uses anything else is rejected at load time, so filters and
skills can rely on them. Their labels (zh, en) are wording: prompts/offline/<lang>/vocabulary.yaml.
"""

from __future__ import annotations

from typing import Literal, get_args

from copilot.wording import Wording


def _labels(section: str, keys: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Key -> (zh label, en label), in the order of `keys`; a key without a label in a language is an error."""
    zh, en = Wording("vocabulary", "zh"), Wording("vocabulary", "en")
    return {key: (zh(f"{section}.{key}"), en(f"{section}.{key}")) for key in keys}


ScenarioKey = Literal[
    "traceability",
    "supply_chain_finance",
    "trade_finance",
    "gov_data_sharing",
    "e_invoice",
    "judicial_evidence",
    "healthcare_data",
    "automotive_parts",
    "energy_carbon",
    "digital_identity",
    "luxury_provenance",
    "shipping_logistics",
]

SCENARIOS: dict[str, tuple[str, str]] = _labels("scenario", get_args(ScenarioKey))

RegionKey = Literal["cn", "hk", "sg", "th", "ae", "sa", "au", "eu", "uk", "us", "ch", "global"]

REGIONS: dict[str, tuple[str, str]] = _labels("region", get_args(RegionKey))

DocType = Literal["case", "policy", "glossary", "risk", "playbook", "method"]
DOC_TYPES: tuple[str, ...] = ("case", "policy", "glossary", "risk", "playbook", "method")

RiskCategory = Literal[
    "data_security_privacy",
    "regulatory_compliance",
    "consortium_governance",
    "vendor_viability",
    "integration",
    "operations_performance",
    "user_adoption",
    "legal_enforceability",
    "key_management",
    "interoperability_lockin",
    "cost_roi",
    "wrong_tool",
]

RISK_CATEGORIES: dict[str, tuple[str, str]] = _labels("risk_category", get_args(RiskCategory))

Language = Literal["zh", "en"]
LANGUAGES: tuple[str, ...] = ("zh", "en")

Owner = Literal["buyer", "vendor", "joint"]

CaseStatus = Literal["live", "pilot", "failed", "wound_down", "not_blockchain", "unclear"]
