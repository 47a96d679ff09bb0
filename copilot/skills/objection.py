"""Objection: from the buyer's words to the concern behind them, a grounded response, proof and a question back.

The concern is classified into one of eight kinds with Chinese and English
keyword sets; the risks retrieved for the objection break ties (and decide
when no keyword matches). The response is the best-matching answer from the
playbooks' objection lists (the deal's own playbook preferred), compared by the
retriever's embedder; when no playbook objection is close enough, it is built
from the mitigations of the closest risk. Proof is the documents the matched
answer and the risk cite; the question back is the discovery question of the
playbook closest to the concern, or a concern-specific question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from copilot.corpus.models import Objection, PlaybookEntry, RiskEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.index.models import Hit, SearchFilters
from copilot.knowledge import KnowledgeBase
from copilot.results import ObjectionResult
from copilot.skills.passages import Cited, end_sentence, lower_first, similarity, sources_section
from copilot.text.lang import detect_language

RISK_K = 8
RISK_WEIGHTS = (0.6, 0.4, 0.25, 0.15, 0.1, 0.05, 0.05, 0.05)
SAME_CONCERN_BONUS = 0.1
OWN_PLAYBOOK_BONUS = 0.1
MATCH_SAME_CONCERN = 0.5
MATCH_ANY = 0.65
QUESTION_MIN = 0.45
QUESTION_SAME_CONCERN = 0.2
KEYWORD_WEIGHT = 2.0
MAX_MITIGATIONS = 2
MAX_EVIDENCE = 2

CONCERNS = ("cost", "failed_precedent", "privacy", "adoption", "legal", "wrong_tool", "vendor", "performance")


def _words(spec: str) -> tuple[str, ...]:
    return tuple(w for w in spec.split("|") if w)


# Keywords are matched as lower-case substrings; "|" separates them.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "cost": _words(
        "贵|成本|预算|投入|回报|花钱|费用|价格|值不值|划算|收费|报价|"
        "roi|expensive|cost|budget|price|pricey|return on|payback|pay back|afford|money|fees|"
        "overpriced"
    ),
    "failed_precedent": _words(
        "失败|关了|关闭|关停|倒了|没做起来|清算|破产|黄了|炒作|炒概念|下线|"
        "tradelens|we.trade|marco polo|contour|b3i|everledger|ibm food trust|fail|shut|closed|"
        "collapse|dead|hype|liquidat|bust|fizzle|wound down"
    ),
    "privacy": _words(
        "隐私|个人信息|个保法|数据安全|泄露|删除|删|敏感|商业机密|保密|数据出境|跨境|合规|监管|"
        "gdpr|pipl|privacy|personal data|personal information|erasure|delete|leak|confidential|"
        "sensitive|compliance|compliant|regulator|data protection|cross-border data"
    ),
    "adoption": _words(
        "不会加入|不愿意|不会用|不会上来|不配合|不会配合|配合|不愿|不肯|加入|参与|推不动|没人用|接入|"
        "join|won't use|will never|adopt|onboard|participate|sign up|on board"
    ),
    "legal": _words(
        "法院|证据|法律效力|法律上|认吗|合法|司法|判决|诉讼|打官司|有效吗|效力|采信|"
        "court|evidence|admissible|legally|legal|binding|enforceable|judge|litigation|lawsuit|valid"
    ),
    "wrong_tool": _words(
        "数据库|为什么要用区块链|没必要|不需要区块链|中心化|现有系统|为什么不用|"
        "database|why blockchain|why not|don't need|spreadsheet|centralised|centralized|"
        "existing system|excel"
    ),
    "vendor": _words(
        "锁定|绑定|厂商|你们公司|迁移|退出|跑路|换供应商|被绑架|你们倒闭|"
        "lock-in|locked in|lock in|vendor|out of business|you disappear|exit|migrate|proprietary|"
        "switch provider|your company"
    ),
    "performance": _words(
        "性能|太慢|速度|吞吐|并发|延迟|扛得住|扩展|宕机|跑得动|"
        "tps|slow|performance|throughput|scale|latency|speed|fast enough|downtime|outage"
    ),
}

# The concern a risk category speaks to (for tie-breaks), and the categories whose risks answer a concern.
_CATEGORY_CONCERN = {
    "cost_roi": "cost",
    "consortium_governance": "adoption",
    "vendor_viability": "vendor",
    "user_adoption": "adoption",
    "data_security_privacy": "privacy",
    "regulatory_compliance": "privacy",
    "key_management": "privacy",
    "legal_enforceability": "legal",
    "wrong_tool": "wrong_tool",
    "interoperability_lockin": "vendor",
    "operations_performance": "performance",
    "integration": "performance",
}
_CONCERN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "cost": ("cost_roi",),
    "failed_precedent": ("consortium_governance", "vendor_viability", "user_adoption", "cost_roi"),
    "privacy": ("data_security_privacy", "regulatory_compliance", "key_management"),
    "adoption": ("user_adoption", "consortium_governance", "integration"),
    "legal": ("legal_enforceability",),
    "wrong_tool": ("wrong_tool",),
    "vendor": ("vendor_viability", "interoperability_lockin"),
    "performance": ("operations_performance", "integration"),
}

CONCERN_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "zh": {
        "cost": ("成本与回报", "担心投入大、回报看不清，这笔账算不过来。"),
        "failed_precedent": ("失败先例", "看到 TradeLens、we.trade 这类项目关停，担心自己成为下一个。"),
        "privacy": ("隐私与合规", "担心个人信息或敏感数据上链后违规、删不掉或被泄露。"),
        "adoption": ("合作方采纳", "担心合作方不愿加入、不愿录数据，网络建不起来。"),
        "legal": ("法律效力", "担心链上证据、电子凭证或智能合约在法律上不被认可。"),
        "wrong_tool": ("是否用错工具", "怀疑区块链并非必要，一个数据库或现有系统就够了。"),
        "vendor": ("供应商存续与锁定", "担心供应商出问题或平台关停后被锁死、数据带不走。"),
        "performance": ("性能与运维", "担心系统跑不动、不稳定，或者运维负担太重。"),
    },
    "en": {
        "cost": ("Cost and ROI", "they fear a large outlay with no clear return."),
        "failed_precedent": (
            "Failed precedents",
            "they have seen TradeLens, we.trade and others shut down and fear being next.",
        ),
        "privacy": (
            "Privacy and compliance",
            "they fear personal or sensitive data on a ledger breaks the rules, cannot be erased or leaks.",
        ),
        "adoption": ("Adoption", "they fear partners will not join or enter data, so the network never forms."),
        "legal": (
            "Legal validity",
            "they fear on-chain evidence, electronic documents or smart contracts will not stand up legally.",
        ),
        "wrong_tool": ("Wrong tool", "they doubt blockchain is needed at all; a database or existing system may do."),
        "vendor": (
            "Vendor viability and lock-in",
            "they fear being locked in, with data they cannot take away, if the vendor or platform fails.",
        ),
        "performance": (
            "Performance and operations",
            "they fear the system will be slow, unstable or a burden to run.",
        ),
    },
}

_QUESTION_BACK: dict[str, dict[str, str]] = {
    "zh": {
        "cost": "如果这个项目要证明值得投入，贵方财务最看重哪一个指标？它今天的水平，我们可以一起先测出来吗？",
        "failed_precedent": "在您看来，那些项目关停的主要原因是什么？我们可以逐条对照，看方案怎么避开。",
        "privacy": "哪些数据在贵方看来属于个人信息或敏感数据？法务或合规团队最关心哪一条规定？",
        "adoption": "哪些合作方必须参与，您对他们有多大话语权？有没有哪一家愿意先做试点？",
        "legal": "贵方最可能在什么场景下要拿这些记录去打官司或应对监管检查？法务希望看到哪些证据要件？",
        "wrong_tool": "这些数据今天由哪几方录入？如果某一方事后改了记录，其他各方现在能发现吗？",
        "vendor": "如果供应商出了问题，贵方最需要确保的是什么：数据能带走、系统能继续运行，还是源代码托管？",
        "performance": "贵方高峰时段的实际业务量有多大？我们可以用贵方的真实负载做一次压测。",
    },
    "en": {
        "cost": (
            "If this project had to prove it is worth the money, which one metric would your finance team judge "
            "it by, and can we measure where it stands today together?"
        ),
        "failed_precedent": (
            "What do you see as the main reason those projects closed? We can check our plan against each one."
        ),
        "privacy": (
            "Which data do you treat as personal or sensitive, and which rule does your legal or compliance "
            "team worry about most?"
        ),
        "adoption": (
            "Which partners must take part, how much leverage do you have over them, and is there one that "
            "would pilot first?"
        ),
        "legal": (
            "When would you most likely need these records in court or in front of a regulator, and what does "
            "your legal team need to see?"
        ),
        "wrong_tool": (
            "Which parties enter this data today, and if one of them changed a record afterwards, would the "
            "others notice?"
        ),
        "vendor": (
            "If the vendor ran into trouble, what would you most need to secure: your data, continued operation, "
            "or the source code in escrow?"
        ),
        "performance": "What volume do you see at peak times? We can load-test with your real workload.",
    },
}

_T = {
    "zh": {
        "title": "异议应对",
        "said": "客户说",
        "concern": "背后的顾虑",
        "response": "回应",
        "proof": "证据",
        "question": "反问",
        "fallback": "这个顾虑很实在，也是这类项目的常见风险（「{risk}」）。我们的做法是：{mitigations}",
    },
    "en": {
        "title": "Handling an objection",
        "said": "The buyer says",
        "concern": "The concern behind it",
        "response": "Response",
        "proof": "Proof",
        "question": "Ask back",
        "fallback": (
            'That is a fair concern, and a common risk in projects like this ("{risk}"). '
            "What we do about it: {mitigations}"
        ),
    },
}


@dataclass(frozen=True)
class _Candidate:
    playbook: PlaybookEntry
    objection: Objection
    similarity: float
    score: float


@cache
def _word_start(keyword: str) -> re.Pattern[str]:
    """The compiled pattern of an English keyword (compiled once: a brief tests ~50,000 keyword mentions)."""
    return re.compile(rf"(?<![a-z0-9]){re.escape(keyword)}")


def _mentions(lowered: str, keyword: str) -> bool:
    """Chinese keywords match anywhere; English ones at the start of a word ("fail" in "failed", not "robust")."""
    if keyword.isascii():
        return _word_start(keyword).search(lowered) is not None
    return keyword in lowered


def keyword_scores(text: str) -> dict[str, float]:
    """How many of each concern's keywords the text mentions."""
    lowered = text.lower()
    return {concern: float(sum(1 for k in words if _mentions(lowered, k))) for concern, words in _KEYWORDS.items()}


def classify(text: str, risk_hits: list[Hit], kb: KnowledgeBase) -> str:
    """The concern behind an objection: keywords first, the retrieved risks to break ties."""
    scores = {concern: KEYWORD_WEIGHT * n for concern, n in keyword_scores(text).items()}
    categories = {r.id: r.category for r in kb.risks}
    for rank, hit in enumerate(risk_hits[: len(RISK_WEIGHTS)]):
        category = categories.get(hit.doc_id)
        if category is not None:
            scores[_CATEGORY_CONCERN[category]] += RISK_WEIGHTS[rank]
    return max(CONCERNS, key=lambda c: (scores[c], -CONCERNS.index(c)))


def _concern_of(objection: Objection) -> str | None:
    return _concern_of_text(f"{objection.objection.zh} {objection.objection.en}")


@lru_cache(maxsize=4096)
def _concern_of_text(text: str) -> str | None:
    """The concern of a playbook objection's text (cached: every objection call classifies all of them)."""
    scores = keyword_scores(text)
    best = max(CONCERNS, key=lambda c: (scores[c], -CONCERNS.index(c)))
    return best if scores[best] > 0 else None


def _match(kb: KnowledgeBase, deal: Deal, objection: str, concern: str) -> _Candidate | None:
    """The playbook objection closest to the buyer's words, if it is close enough to answer them."""
    pairs = [(p, o) for p in sorted(kb.playbooks.values(), key=lambda p: p.scenario) for o in p.objections]
    if not pairs:
        return None
    # Compared in the buyer's language: the playbooks hold every objection in both.
    said_in = detect_language(objection, default=deal.lang)
    sims = similarity(kb, [objection], [o.objection.get(said_in) for _, o in pairs])[0]
    best: _Candidate | None = None
    for i, (playbook, candidate) in enumerate(pairs):
        sim = float(sims[i])
        same = _concern_of(candidate) == concern
        score = sim + (SAME_CONCERN_BONUS if same else 0.0)
        score += OWN_PLAYBOOK_BONUS if playbook.scenario == deal.scenario else 0.0
        if (sim >= MATCH_ANY or (same and sim >= MATCH_SAME_CONCERN)) and (best is None or score > best.score):
            best = _Candidate(playbook, candidate, sim, score)
    return best


def _closest_risk(kb: KnowledgeBase, c: Cited, deal: Deal, objection: str, concern: str, lang: str) -> RiskEntry | None:
    """The risk that speaks to the concern, retrieved for the objection and the concern.

    The concern's main category first; within a category, the risks of the deal's scenario first.
    """
    risks = {r.id: r for r in kb.risks}
    wanted = _CONCERN_CATEGORIES[concern]
    label, description = CONCERN_TEXT[lang][concern]
    query = f"{objection} {label} {description}"
    found: list[RiskEntry] = []
    for filters in (SearchFilters(type="risk", scenario=deal.scenario), SearchFilters(type="risk")):
        for hit in c.g.search(query, k=RISK_K, filters=filters):
            risk = risks.get(hit.doc_id)
            if risk is not None and risk not in found:
                found.append(risk)
    for category in wanted:  # the concern's main category first
        for risk in found:
            if risk.category == category:
                return risk
    return None


def _question_back(
    kb: KnowledgeBase, c: Cited, deal: Deal, matched: _Candidate | None, objection: str, concern: str, lang: str
) -> str:
    """The discovery question closest to the concern (the deal's playbook first), or a concern-specific one."""
    playbooks = [kb.playbook(deal.scenario)]
    if matched is not None and matched.playbook.scenario != deal.scenario:
        playbooks.append(matched.playbook)
    pairs = [(p, q.get(lang)) for p in playbooks for q in p.discovery_questions]
    label, description = CONCERN_TEXT[lang][concern]
    sims = similarity(kb, [f"{objection} {label} {description}"], [q for _, q in pairs])[0]
    scored = []
    for i, (p, q) in enumerate(pairs):
        score = float(sims[i]) + (OWN_PLAYBOOK_BONUS if p.scenario == deal.scenario else 0.0)
        keywords = keyword_scores(q)
        if keywords[concern] > 0 and keywords[concern] == max(keywords.values()):
            score += QUESTION_SAME_CONCERN
        scored.append((score, -i, p, q))
    best = max(scored, key=lambda s: (s[0], s[1]))
    if best[0] >= QUESTION_MIN:
        grounded = c.grounded(best[2].id, best[3], [objection, deal.text()])
        if grounded:
            return grounded
    return _QUESTION_BACK[lang][concern]


def render_objection(result: ObjectionResult, kb: KnowledgeBase) -> str:
    lang = result.language
    t = _T[lang]
    sep = "：" if lang == "zh" else ": "
    quoted = f"「{result.objection}」" if lang == "zh" else f"“{result.objection}”"
    proof = "\n".join(f"- {kb.title(doc_id, lang)}" for doc_id in result.proof)
    parts = [
        f"# {t['title']}",
        f"**{t['said']}**{sep}{quoted}",
        f"## {t['concern']}\n{result.concern}",
        f"## {t['response']}\n{result.response}",
    ]
    if proof:
        parts.append(f"## {t['proof']}\n{proof}")
    parts.append(f"## {t['question']}\n{result.question_back}")
    sources = sources_section(result.citations, lang)
    if sources:
        parts.append(sources)
    return "\n\n".join(parts) + "\n"


def objection_offline(kb: KnowledgeBase, g: Grounding, deal: Deal, objection: str, lang: str) -> ObjectionResult:
    """Answer a buyer's objection with the concern behind it, a grounded response, proof and a question back."""
    c = Cited(g)
    inputs = [objection, deal.text()]
    risk_hits = g.search(objection, k=RISK_K, filters=SearchFilters(type="risk"))
    concern = classify(objection, risk_hits, kb)
    label, description = CONCERN_TEXT[lang][concern]
    concern_text = f"{label}：{description}" if lang == "zh" else f"{label}: {description}"

    matched = _match(kb, deal, objection, concern)
    risk = _closest_risk(kb, c, deal, objection, concern, lang)
    proof: list[str] = []
    response = ""
    if matched is not None:
        answer = matched.objection.answer.get(lang)
        response = c.grounded(matched.playbook.id, answer, inputs) or ""
        for doc_id in matched.objection.proof:
            if c.doc(doc_id, f"{objection} {answer}") is not None and doc_id not in proof:
                proof.append(doc_id)
    if risk is not None:
        if not response:
            kept = [m for m in (c.grounded(risk.id, m.get(lang), inputs) for m in risk.mitigations) if m]
            kept = [end_sentence(m, lang) for m in kept[:MAX_MITIGATIONS]]
            if kept:
                joined = "".join(kept) if lang == "zh" else " ".join([lower_first(kept[0], lang), *kept[1:]])
                response = _T[lang]["fallback"].format(risk=risk.title(lang), mitigations=joined)
        else:
            c.doc(risk.id, objection)
        for doc_id in risk.evidence[:MAX_EVIDENCE]:
            if doc_id not in proof and c.doc(doc_id, f"{objection} {risk.title(lang)}") is not None:
                proof.append(doc_id)
    if not response:
        response = description

    result = ObjectionResult(
        language=lang,  # type: ignore[arg-type]
        objection=objection,
        concern=concern_text,
        response=response,
        proof=proof,
        question_back=_question_back(kb, c, deal, matched, objection, concern, lang),
        citations=c.citations,
    )
    return result.model_copy(update={"text": render_objection(result, kb)})
