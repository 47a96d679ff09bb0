"""Does this problem need a blockchain? An honest, offline verdict from the deal's own words.

Signals are keyword sets in Chinese and English, matched in the deal's text
(customer, industry, audience, pains, goals, systems, constraints):

    for   M  several parties write shared records   (供应商, 上下游, 银行, 联盟, 跨部门, partners, banks…)
          T  a trust gap: disputes, reconciliation, fakes, double claims (对账, 纠纷, 篡改, 重复报销, dispute…)
          P  tamper evidence, audit or proof owed to a third party (存证, 审计, 监管, evidence, audit…)
    against
          S  one organisation writing for itself (内部, 单一部门, 我们自己, internal, only we…); a "for"
             keyword negated in the text ("no partners", "不涉及供应商") counts here, not as M
          H  high-frequency private data or real-time trading latency (高频, 毫秒, high-frequency…)
          N  no need to share (不需要共享, no need to share…)
          R  wanted for PR or as a concept (宣传, 概念, 蹭热点, hype, PR…)
    criteria  G / B: the deal's words overlap a good_fit / poor_fit line of the scenario playbook

    score = 2M + 2T + P + G - 2S - 2H - 2N - 2R - B   (each signal counts once, 0 or 1)

    not_fit  when neither M nor T is present (one party, no trust gap: a database will do, whatever the
             scenario is called), or score <= 0
    fit      when M and T are present, no "against" signal is, and score >= 4
    partial  otherwise

Reasons quote the deal's words and the playbook's fit criteria; partial and
not_fit verdicts also cite the matching "wrong tool" risks and the ASX CHESS
case; a not_fit verdict offers the playbook's alternative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from copilot.corpus.models import Bilingual, PlaybookEntry, RiskEntry
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.results import FitResult
from copilot.skills.passages import Cited, sources_section
from copilot.text.segment import tokenize
from copilot.vocabulary import Language

ASX_CASE = "case-asx-chess"
TRUSTED_OPERATOR_RISK = "risk-wrong-tool-trusted-central-operator"
Verdict = Literal["fit", "partial", "not_fit"]

_FOR = {
    "M": (
        "供应商|上下游|多家|银行|联盟|跨部门|部门之间|各部门|跨机构|机构之间|各机构|合作方|合作伙伴|各方|多方|经销商|"
        "物流商|承运人|货代|保险公司|保险|二级供应商|生态|交易对手|出口客户|二手|同业|信用证|提单",
        r"partners?|suppliers?|banks?|consortium|counterpart(?:y|ies)|departments?|institutions?|insurers?|"
        r"carriers?|forwarders?|shippers?|ecosystem|several parties|multiple parties|other firms|distributors?|"
        r"dealers?|growers?|logistics firms?|export customers?|resale buyers?|tier-\w+ suppliers?|agencies|"
        r"insurance|letters? of credit|letter-of-credit|bills? of lading",
    ),
    "T": (
        "对账|纠纷|争议|篡改|造假|伪造|重复报销|一票多报|虚报|真伪|假货|对不上|推诿|不信任|互不信任|无法核实|"
        "重复计算|重复核验|保函|易出错|被篡改|不愿共享|不愿意共享|查不清|说不清|无法证明",
        r"disputes?|reconcil\w*|tamper\w*|fakes?|counterfeits?|double[- ]?count\w*|claimed twice|"
        r"duplicates?|fraud\w*|forg(?:ed|ery)|alter(?:ed)?|never match|don't match|do not match|mismatch\w*|"
        r"cannot verify|can't verify|distrust|errors? are common|letters? of indemnity|will not share|won't share|"
        r"refuse to share|reluctant to share|cannot tell|can't tell|cannot prove|can't prove|"
        r"repeats? (?:KYC|checks|verification)",
    ),
    "P": (
        "存证|审计|证据|监管|证明|核验|核实|质证|合规|鉴真|举证",
        r"evidence|audit\w*|regulators?|regulatory|proof|prove|verify|verification|authenticity|compliance|"
        r"court|certificates?",
    ),
}
_AGAINST = {
    "S": (
        "内部|单一部门|单一机构|我们自己|只有我们|自己用|一家公司|自营|本部门|仅限内部|公司内部",
        r"internal(?:ly)?|in-house|single team|single department|one company|only we|only us|our own|ourselves|"
        r"one team|one department|single organi[sz]ation|one organi[sz]ation",
    ),
    "H": (
        "高频|毫秒|实时交易|实时行情|低延迟|传感器读数|每秒上万",
        r"high[- ]frequency|milliseconds?|low[- ]latency|real[- ]time trading|tick data|sensor readings",
    ),
    "N": (
        "不需要共享|无需共享|不共享|不对外|无需对外|不需要对外",
        r"no need to share|not shared|don't need to share|do not need to share|no one else needs|nobody else needs",
    ),
    "R": (
        "宣传(?!部)|概念(?!验证)|蹭热点|噱头|炒作|为了营销|用于营销|新闻稿|形象工程",
        r"hype|PR|press release|buzz|buzzword|for marketing|marketing (?:gimmick|stunt|story|purposes)|"
        r"just a concept|as a concept|showcase",
    ),
}
_NEGATION_ZH = re.compile(r"(?:没有|无需|不需要|不涉及|并无|无任何|无其他|无外部|不用)[^，。；,.;]{0,4}$")
_NEGATION_EN = re.compile(r"\b(?:no|not|without|never|none|nor)\b(?!\s+more\b)(?:\W+\w+){0,2}\W*$", re.IGNORECASE)

_WRONG_TOOL_FOR = {
    "S": "risk-wrong-tool-single-writer",
    "H": "risk-wrong-tool-high-frequency-private-data",
    "N": "risk-wrong-tool-no-tamper-evidence-need",
    "R": "risk-wrong-tool-marketing-driven",
}

_VERDICT: dict[str, dict[str, str]] = {
    "zh": {
        "fit": "结论：适合用区块链",
        "partial": "结论：部分适合，先确认关键前提",
        "not_fit": "结论：不适合，建议用更简单的方案",
    },
    "en": {
        "fit": "Verdict: a good fit for blockchain",
        "partial": "Verdict: a partial fit; confirm the key conditions first",
        "not_fit": "Verdict: not a fit; a simpler solution will do",
    },
}
_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "## 区块链适用性判断：{customer}",
        "reasons": "### 理由",
        "M": "多方参与：客户提到{words}，记录需要由互不隶属的多家机构共同写入。",
        "T": "存在信任缺口：客户提到{words}，各方之间有对账、纠纷或真伪问题。",
        "P": "需要向第三方证明：客户提到{words}，记录要经得起审计、监管或法庭的检验。",
        "S": "只有一方写入：客户提到{words}，数据由一家机构自己录入、自己使用。",
        "H": "高频私密数据：客户提到{words}，这类数据不适合上链。",
        "N": "没有共享需求：客户提到{words}。",
        "R": "动机偏向宣传：客户提到{words}，需求更像概念展示。",
        "no_M": "客户的描述里看不到其他参与方：没有谁需要和他们共同写入同一份记录。",
        "no_T": "客户的描述里看不到信任缺口：没有对账、纠纷或真伪问题。",
        "good": "符合本场景手册的适用条件：「{text}」",
        "poor": "符合本场景手册的不适用情形：「{text}」",
        "risk": "对照风险库「{title}」：{text}",
        "asx": "前车之鉴：{title}。{text}",
        "alternative": "### 建议的替代方案",
        "confirm": "### 继续之前先确认",
        "quote": "「{w}」",
        "join": "、",
    },
    "en": {
        "title": "## Does {customer} need a blockchain?",
        "reasons": "### Why",
        "M": "Several parties: the customer mentions {words}, so records are written by organisations that do "
        "not report to each other.",
        "T": "A trust gap: the customer mentions {words}, so there are reconciliation, dispute or authenticity "
        "problems between the parties.",
        "P": "Proof owed to a third party: the customer mentions {words}, so records must stand up to an auditor, "
        "a regulator or a court.",
        "S": "One party writes the data: the customer mentions {words}, so one organisation enters and uses it.",
        "H": "High-frequency private data: the customer mentions {words}, which does not belong on a chain.",
        "N": "No need to share: the customer mentions {words}.",
        "R": "A publicity motive: the customer mentions {words}, so the need looks like a showcase.",
        "no_M": "The customer's description names no other party that would write to the same records.",
        "no_T": "The customer's description shows no trust gap: no reconciliation, disputes or fakes.",
        "good": "Matches the playbook's fit criteria: “{text}”",
        "poor": "Matches a case where the playbook says a shared database is better: “{text}”",
        "risk": "From the risk library, “{title}”: {text}",
        "asx": "A cautionary tale: {title}. {text}",
        "alternative": "### Offer instead",
        "confirm": "### Confirm before going further",
        "quote": "“{w}”",
        "join": ", ",
    },
}


@dataclass(frozen=True)
class FitSignals:
    found: dict[str, list[str]]  # signal key -> the deal's words that triggered it
    good: Bilingual | None
    poor: Bilingual | None

    def has(self, key: str) -> bool:
        return bool(self.found.get(key))

    @property
    def score(self) -> int:
        weights = {"M": 2, "T": 2, "P": 1, "S": -2, "H": -2, "N": -2, "R": -2}
        total = sum(w for k, w in weights.items() if self.has(k))
        return total + (self.good is not None) - (self.poor is not None)

    @property
    def verdict(self) -> Verdict:
        against = any(self.has(k) for k in ("S", "H", "N", "R"))
        if not (self.has("M") or self.has("T")) or self.score <= 0:
            return "not_fit"
        if self.has("M") and self.has("T") and not against and self.score >= 4:
            return "fit"
        return "partial"


def _pattern(zh: str, en: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{zh})|\b(?:{en})\b", re.IGNORECASE)


_FOR_RE = {k: _pattern(*v) for k, v in _FOR.items()}
_AGAINST_RE = {k: _pattern(*v) for k, v in _AGAINST.items()}


def _negation(text: str, start: int) -> int | None:
    """Where a negation ("no", "不涉及"…) shortly before `start` begins, if there is one."""
    before = text[max(0, start - 40) : start]
    clause = re.split(r"[，。；,.;!?！？\n]", before)[-1]
    m = _NEGATION_ZH.search(clause) or _NEGATION_EN.search(clause)
    return start - len(clause) + m.start() if m else None


def _add(found: dict[str, list[str]], key: str, word: str) -> None:
    words = found.setdefault(key, [])
    if word.lower() not in {w.lower() for w in words}:
        words.append(word)


def _words(text: str) -> set[str]:
    return {t for t in tokenize(text) if not t.isdigit() and (t.isascii() or len(t) >= 2)}


def _best_criterion(deal_words: set[str], items: list[Bilingual], lang: str) -> Bilingual | None:
    """The playbook criterion sharing the most words (at least two) with the deal, if any."""
    best: tuple[int, int] | None = None
    for index, item in enumerate(items):
        overlap = len(deal_words & _words(item.get(lang)))
        if overlap >= 2 and (best is None or (overlap, -index) > best):
            best = (overlap, -index)
    return items[-best[1]] if best is not None else None


def read_signals(deal: Deal, playbook: PlaybookEntry) -> FitSignals:
    text = deal.text()
    found: dict[str, list[str]] = {}
    for key, pattern in _FOR_RE.items():
        for m in pattern.finditer(text):
            negation = _negation(text, m.start())
            if negation is None:
                _add(found, key, m.group(0))
            elif key == "M":  # "no partners", "不涉及供应商": a single organisation
                _add(found, "S", text[negation : m.end()])
    for key, pattern in _AGAINST_RE.items():
        for m in pattern.finditer(text):
            if _negation(text, m.start()) is None:
                _add(found, key, m.group(0))
    deal_words = _words(text)
    return FitSignals(
        found=found,
        good=_best_criterion(deal_words, playbook.fit.good_fit, deal.lang),
        poor=_best_criterion(deal_words, playbook.fit.poor_fit, deal.lang),
    )


def _sentences(text: str) -> list[str]:
    """Sentences of a passage or field, headings and list marks removed ("Art. 11" does not end a sentence)."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"^(?:[-*+]\s+|\d+[.)]\s+)", "", line.strip())
        if not line or line.startswith("#"):
            continue
        out += [p.strip() for p in re.split(r"(?<=[。！？])|(?<=[.!?])\s+(?=[A-Z“\"(])", line) if p and p.strip()]
    return out


def _best_sentence(text: str, query: str, lang: str) -> str:
    """The sentence of a passage that shares most words with `query`, ending as a sentence."""
    want = _words(query)
    best, best_overlap = "", -1
    for sentence in _sentences(text):
        overlap = len(want & _words(sentence))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    best = best.rstrip("；;，, ")
    if best and best[-1] not in "。！？.!?”":
        best += "。" if lang == "zh" else "."
    return best


def _gist(description: str, lang: str) -> str:
    """The opening of a description: its first sentence, and the second when the first is short."""
    sentences = _sentences(description)
    short = 60 if lang == "zh" else 120
    head = sentences[:2] if sentences and len(sentences[0]) < short else sentences[:1]
    return ("" if lang == "zh" else " ").join(head)


def fit_offline(kb: KnowledgeBase, g: Grounding, deal: Deal) -> FitResult:
    lang = deal.lang
    tx = _TEXT[lang]
    playbook = kb.playbook(deal.scenario)
    src = Cited(g, deal.text())
    signals = read_signals(deal, playbook)
    verdict = signals.verdict

    fit_lines = [c.get(lang) for c in (*playbook.fit.good_fit, *playbook.fit.poor_fit)]
    src.cite_doc(playbook.id, "\n".join([*fit_lines, playbook.fit.alternative.get(lang)]))

    reasons: list[str] = []
    for key in ("M", "T", "P", "S", "H", "N", "R"):
        if signals.has(key):
            words = tx["join"].join(tx["quote"].format(w=w) for w in signals.found[key][:4])
            reasons.append(tx[key].format(words=words))
    if not signals.has("M"):
        reasons.append(tx["no_M"])
    if not signals.has("T"):
        reasons.append(tx["no_T"])
    for key, criterion in (("good", signals.good), ("poor", signals.poor)):
        if criterion is not None:
            grounded = src.ground(playbook.id, criterion.get(lang))
            if grounded:
                reasons.append(tx[key].format(text=grounded))

    if verdict != "fit":
        for risk in _wrong_tool_risks(kb, signals):
            title, description = risk.title(lang), risk.description.get(lang)
            if src.cite_doc(risk.id, f"{title}\n{description}") is None:
                continue
            gist = src.ground(risk.id, _gist(description, lang))
            if gist:
                reasons.append(tx["risk"].format(title=title, text=gist))
        asx_query = (
            "用错了工具 系统由一家机构运营 传统数据库能做的事 不一定需要区块链"
            if lang == "zh"
            else "The wrong tool: the system is run by one organisation, and what a conventional database can do"
        )
        citation = src.cite_doc(ASX_CASE, asx_query)
        if citation is not None:
            sentence = _best_sentence(src.g.hits[citation.chunk_id].text, asx_query, lang)
            reasons.append(tx["asx"].format(title=citation.title, text=sentence))

    alternative = src.ground(playbook.id, playbook.fit.alternative.get(lang)) if verdict == "not_fit" else None
    language: Language = "zh" if lang == "zh" else "en"
    result = FitResult(
        language=language,
        verdict=verdict,
        reasons=[r for r in reasons if not src.unsupported(r)],
        alternative=alternative,
        citations=list(src.citations),
    )
    confirm = src.ground_all(playbook.id, [c.get(lang) for c in playbook.fit.good_fit]) if verdict == "partial" else []
    result.text = render_fit(result, deal, confirm)
    return result


def _wrong_tool_risks(kb: KnowledgeBase, signals: FitSignals) -> list[RiskEntry]:
    """The "wrong tool" risks the deal's signals point to (no tamper-evidence need when there is no trust gap)."""
    wanted = [_WRONG_TOOL_FOR[k] for k in ("S", "H", "N", "R") if signals.has(k)]
    if not signals.has("M"):
        wanted.append(_WRONG_TOOL_FOR["S"])
    if not signals.has("T") and not signals.has("P"):
        wanted.append(_WRONG_TOOL_FOR["N"])
    if not wanted:  # parties but no trust gap: they may simply trust one operator
        wanted.append(TRUSTED_OPERATOR_RISK if not signals.has("T") else _WRONG_TOOL_FOR["S"])
    by_id = {r.id: r for r in kb.risks}
    out: list[RiskEntry] = []
    for risk_id in wanted:
        risk = by_id.get(risk_id)
        if risk is not None and risk not in out:
            out.append(risk)
    return out


def render_fit(result: FitResult, deal: Deal, confirm: list[str]) -> str:
    """Markdown: verdict, reasons, what to confirm (partial) or what to offer instead (not_fit), sources."""
    tx = _TEXT[result.language]
    lines = [tx["title"].format(customer=deal.who()), "", f"**{_VERDICT[result.language][result.verdict]}**", ""]
    lines += [tx["reasons"], *[f"- {r}" for r in result.reasons]]
    if confirm:
        lines += ["", tx["confirm"], *[f"- {c}" for c in confirm]]
    if result.alternative:
        lines += ["", tx["alternative"], result.alternative]
    lines += ["", sources_section(result.citations, result.language, level=3)]
    return "\n".join(lines).strip() + "\n"
