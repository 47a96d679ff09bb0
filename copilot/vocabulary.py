"""Fixed vocabularies shared by the corpus, the index and the skills.

Scenario keys, regions, document types and risk categories are closed sets: a
document that uses anything else is rejected at load time, so filters and
skills can rely on them.
"""

from __future__ import annotations

from typing import Literal

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

SCENARIOS: dict[str, tuple[str, str]] = {
    "traceability": ("溯源", "Traceability"),
    "supply_chain_finance": ("供应链金融", "Supply-chain finance"),
    "trade_finance": ("贸易融资", "Trade finance"),
    "gov_data_sharing": ("政务数据共享", "Government data sharing"),
    "e_invoice": ("电子发票", "E-invoices"),
    "judicial_evidence": ("司法存证", "Judicial evidence"),
    "healthcare_data": ("医疗数据", "Healthcare data"),
    "automotive_parts": ("汽车零部件", "Automotive parts"),
    "energy_carbon": ("能源与碳", "Energy and carbon"),
    "digital_identity": ("数字身份", "Digital identity"),
    "luxury_provenance": ("奢侈品溯源", "Luxury provenance"),
    "shipping_logistics": ("航运物流", "Shipping and logistics"),
}

RegionKey = Literal["cn", "hk", "sg", "th", "ae", "sa", "au", "eu", "uk", "us", "ch", "global"]

REGIONS: dict[str, tuple[str, str]] = {
    "cn": ("中国内地", "Mainland China"),
    "hk": ("中国香港", "Hong Kong"),
    "sg": ("新加坡", "Singapore"),
    "th": ("泰国", "Thailand"),
    "ae": ("阿联酋", "UAE"),
    "sa": ("沙特阿拉伯", "Saudi Arabia"),
    "au": ("澳大利亚", "Australia"),
    "eu": ("欧盟", "European Union"),
    "uk": ("英国", "United Kingdom"),
    "us": ("美国", "United States"),
    "ch": ("瑞士", "Switzerland"),
    "global": ("全球", "Global"),
}

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

RISK_CATEGORIES: dict[str, tuple[str, str]] = {
    "data_security_privacy": ("数据安全与隐私", "Data security and privacy"),
    "regulatory_compliance": ("合规监管", "Regulatory compliance"),
    "consortium_governance": ("联盟治理与资金", "Consortium governance and funding"),
    "vendor_viability": ("供应商存续", "Vendor viability"),
    "integration": ("ERP/CRM 与遗留系统集成", "Integration with ERP/CRM and legacy systems"),
    "operations_performance": ("运维与性能", "Operations and performance"),
    "user_adoption": ("用户采纳与变革", "User adoption and change"),
    "legal_enforceability": ("智能合约法律效力", "Legal enforceability of smart contracts"),
    "key_management": ("密钥管理", "Key management"),
    "interoperability_lockin": ("互操作与锁定", "Interoperability and lock-in"),
    "cost_roi": ("成本与回报", "Cost and ROI"),
    "wrong_tool": ("区块链并非合适工具", "Blockchain is the wrong tool"),
}

Language = Literal["zh", "en"]
LANGUAGES: tuple[str, ...] = ("zh", "en")

Owner = Literal["buyer", "vendor", "joint"]

CaseStatus = Literal["live", "pilot", "failed", "wound_down", "not_blockchain", "unclear"]
