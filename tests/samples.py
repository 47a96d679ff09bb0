"""Sample deals across the 12 scenarios in both languages, for the skill tests.

The numbers in pains and goals are the buyer's own (the copilot may repeat them);
everything else a skill shows must come from the knowledge base.
"""

from __future__ import annotations

from copilot.deal import Deal, deal_from_data

_ZH = {
    "traceability": (
        "鲜果供应链集团",
        "农产品流通",
        ["质量总监", "CEO"],
        ["出了质量问题要3天才能追到果园批次", "供应商各用各的系统，记录对不上"],
        ["把追溯时间缩短到2小时以内"],
        ["SAP ERP"],
    ),
    "supply_chain_finance": (
        "华东汽配集团",
        "制造业",
        ["CFO", "资金部总经理"],
        ["二级供应商融资难，账期长达90天", "银行无法核实贸易背景"],
        ["供应商融资审批时间从7天缩短到1天"],
        ["用友ERP"],
    ),
    "trade_finance": (
        "远洋贸易公司",
        "大宗商品贸易",
        ["贸易融资部负责人"],
        ["信用证单据审核慢，纸质单据易出错"],
        ["单据处理时间减少50%"],
        ["资金管理系统"],
    ),
    "gov_data_sharing": (
        "某市大数据局",
        "政务服务",
        ["局长", "信息中心主任"],
        ["部门之间数据不愿共享，群众办事反复提交材料"],
        ["群众办事材料减少30%"],
        ["政务云"],
    ),
    "e_invoice": (
        "某省税务局",
        "税务",
        ["科长"],
        ["一票多报、虚报虚抵，发票真伪难验"],
        ["重复报销案件降为0"],
        ["金税系统"],
    ),
    "judicial_evidence": (
        "某互联网法院",
        "司法",
        ["技术处处长", "法官"],
        ["电子证据分散、容易被篡改，质证耗时"],
        ["电子证据核验时间缩短到1天"],
        ["诉讼服务平台"],
    ),
    "healthcare_data": (
        "某三甲医院",
        "医疗",
        ["院长", "信息科主任"],
        ["医疗票据重复报销，商业保险理赔要等30天"],
        ["理赔周期缩短到7天"],
        ["HIS系统"],
    ),
    "automotive_parts": (
        "某整车厂",
        "汽车制造",
        ["采购总监", "质量总监"],
        ["零部件召回时查不清批次来源"],
        ["召回定位时间缩短到4小时"],
        ["SAP ERP", "MES"],
    ),
    "energy_carbon": (
        "某新能源集团",
        "能源",
        ["碳资产管理部经理"],
        ["绿电环境权益重复计算，出口客户要求碳足迹证明"],
        ["绿证核验时间缩短到1天"],
        ["能源管理系统"],
    ),
    "digital_identity": (
        "某城商行",
        "银行",
        ["合规总监"],
        ["跨机构KYC重复核验，开户要5天"],
        ["开户时间缩短到1天"],
        ["核心银行系统"],
    ),
    "luxury_provenance": (
        "某珠宝品牌",
        "奢侈品",
        ["品牌总监"],
        ["假货冲击，二手流通无法证明真伪"],
        ["鉴真查询在3秒内返回"],
        ["CRM"],
    ),
    "shipping_logistics": (
        "某港口集团",
        "航运物流",
        ["COO"],
        ["纸质提单流转慢，凭保函放货风险高"],
        ["电子提单占比提升到60%"],
        ["码头操作系统"],
    ),
}

_EN = {
    "traceability": (
        "FreshCo Produce",
        "Food retail",
        ["Head of Quality", "CEO"],
        [
            "Tracing a bad batch back to the farm takes 3 days",
            "Suppliers keep records in different systems that never match",
        ],
        ["Trace any batch within 2 hours"],
        ["SAP ERP"],
    ),
    "supply_chain_finance": (
        "Delta Auto Parts",
        "Manufacturing",
        ["CFO", "Treasurer"],
        [
            "Tier-2 suppliers wait 90 days to be paid and cannot get bank finance",
            "Banks cannot verify the underlying trade",
        ],
        ["Cut supplier financing approval from 7 days to 1 day"],
        ["Oracle ERP"],
    ),
    "trade_finance": (
        "Oceanic Commodities",
        "Commodity trading",
        ["Head of Trade Finance"],
        ["Letter-of-credit document checks are slow and paper errors are common"],
        ["Halve document processing time (50% less)"],
        ["Treasury system"],
    ),
    "gov_data_sharing": (
        "City Data Bureau",
        "Government services",
        ["Director", "CIO"],
        ["Departments will not share data and citizens submit the same documents again and again"],
        ["30% fewer documents per citizen application"],
        ["Government cloud"],
    ),
    "e_invoice": (
        "Provincial Tax Bureau",
        "Tax",
        ["Division head"],
        ["The same invoice is claimed several times and fakes are hard to check"],
        ["Zero duplicate reimbursement cases"],
        ["Tax system"],
    ),
    "judicial_evidence": (
        "Internet Court",
        "Judiciary",
        ["Head of technology", "Judge"],
        ["Electronic evidence is scattered, easy to alter, and slow to verify"],
        ["Verify electronic evidence within 1 day"],
        ["Litigation platform"],
    ),
    "healthcare_data": (
        "City General Hospital",
        "Healthcare",
        ["Hospital director", "Head of IT"],
        ["Medical bills are claimed twice and insurance claims take 30 days"],
        ["Cut claim settlement to 7 days"],
        ["HIS"],
    ),
    "automotive_parts": (
        "Orion Motors",
        "Automotive",
        ["Head of Procurement", "Head of Quality"],
        ["During recalls we cannot tell which supplier batch a part came from"],
        ["Locate recalled parts within 4 hours"],
        ["SAP ERP", "MES"],
    ),
    "energy_carbon": (
        "GreenGrid Energy",
        "Energy",
        ["Carbon asset manager"],
        ["Green-power certificates get double counted and export customers ask for carbon-footprint proof"],
        ["Verify a certificate within 1 day"],
        ["Energy management system"],
    ),
    "digital_identity": (
        "Harbour City Bank",
        "Banking",
        ["Chief Compliance Officer"],
        ["Every institution repeats KYC checks and account opening takes 5 days"],
        ["Open an account within 1 day"],
        ["Core banking"],
    ),
    "luxury_provenance": (
        "Maison Lumière",
        "Luxury goods",
        ["Brand director"],
        ["Counterfeits hurt the brand and resale buyers cannot prove authenticity"],
        ["Authenticity check answers within 3 seconds"],
        ["CRM"],
    ),
    "shipping_logistics": (
        "Pacific Port Group",
        "Shipping and logistics",
        ["COO"],
        ["Paper bills of lading move slowly and cargo is released against letters of indemnity"],
        ["Raise electronic bills of lading to 60% of volume"],
        ["Terminal operating system"],
    ),
}

REGIONS = {"trade_finance": "hk", "energy_carbon": "cn", "luxury_provenance": "eu", "digital_identity": "cn"}
EN_REGIONS = {"traceability": "us", "luxury_provenance": "eu", "healthcare_data": "eu", "shipping_logistics": "global"}


def _deal(scenario: str, lang: str) -> Deal:
    table = _ZH if lang == "zh" else _EN
    customer, industry, audience, pains, goals, systems = table[scenario]
    region = (REGIONS if lang == "zh" else EN_REGIONS).get(scenario, "cn" if lang == "zh" else "eu")
    return deal_from_data(
        {
            "customer": customer,
            "industry": industry,
            "scenario": scenario,
            "region": region,
            "language": lang,
            "audience": audience,
            "pains": pains,
            "goals": goals,
            "systems": systems,
            "stage": "discovery" if lang == "zh" else "proposal",
        }
    )


SAMPLE_DEALS: list[Deal] = [_deal(s, lang) for s in _ZH for lang in ("zh", "en")]


def deal_for(scenario: str, lang: str) -> Deal:
    return _deal(scenario, lang)
