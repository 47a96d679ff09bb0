"""Offline explain, ask and objection skills over the shipped corpus: structure, grounding, honesty."""

from __future__ import annotations

import re

import pytest
from samples import SAMPLE_DEALS, deal_for

from copilot import validators
from copilot.deal import Deal
from copilot.grounding import Grounding
from copilot.knowledge import KnowledgeBase
from copilot.results import AskResult, ExplainResult, ObjectionResult, SkillResult
from copilot.skills.ask import ask_offline, asks_legal_certainty
from copilot.skills.explain import explain_offline
from copilot.skills.objection import classify, concern_keys, concern_label, objection_offline
from copilot.text.numbers import find_figures

DEAL_IDS = [f"{d.scenario}-{d.lang}" for d in SAMPLE_DEALS]
_DIGIT = re.compile(r"\d")

TECH = {
    "zh": "我们的方案基于PBFT共识的联盟链，采用零知识证明和MPC保护隐私，数据哈希上链，支持SM2/SM3国密",
    "en": (
        "Our solution is a consortium chain with PBFT consensus; zero-knowledge proof and MPC protect privacy, "
        "data is hash-anchored on-chain, and SM2/SM3 national cryptography is supported."
    ),
}

# (objection, expected concern) in the buyer's words, per language.
OBJECTIONS = {
    "zh": [
        ("你们公司要是倒闭了，我们的数据怎么办？", "vendor_viability_lockin"),
        ("为什么不直接用数据库？", "necessity"),
        ("太贵了", "cost_roi"),
        ("我们的供应商根本不会加入", "partner_adoption"),
        ("这个方案符合监管要求吗？", "regulatory_compliance"),
        ("个人信息放到不可篡改的链上，违反个人信息保护法吧", "privacy_confidentiality"),
    ],
    "en": [
        ("TradeLens shut down. Why would your platform last?", "vendor_viability_lockin"),
        ("Why not just use a database?", "necessity"),
        ("This is far too expensive", "cost_roi"),
        ("Our suppliers will never join", "partner_adoption"),
        ("Will a regulator accept records from this platform?", "regulatory_compliance"),
        ("personal data on an immutable ledger breaks GDPR", "privacy_confidentiality"),
    ],
}

IN_KB = [
    ("zh", "沃尔玛芒果溯源从几天缩短到几秒？"),
    ("en", "How long did Walmart's mango trace take?"),
    ("zh", "TradeLens为什么关闭？"),
    ("en", "Why did we.trade fail?"),
    ("zh", "什么是联盟链"),
    ("en", "Does GDPR allow personal data on blockchain?"),
    ("zh", "链上数据能删除吗？"),
    ("en", "How much did ASX write off on CHESS?"),
]
OUT_OF_KB = [
    ("zh", "巴黎明天天气怎么样"),
    ("en", "best pizza recipe"),
    ("zh", "谁赢了世界杯"),
    ("en", "Who won the 2022 World Cup?"),
    ("zh", "怎么做红烧肉"),
    ("en", "How do I reset my iPhone password?"),
]


def _common_checks(result: SkillResult, g: Grounding, lang: str, inputs: list[str]) -> None:
    assert result.language == lang
    assert result.mode == "offline"
    assert validators.check_citations(result.citations, set(g.hits)) == []
    assert validators.check_numbers(result.text, [*inputs, g.cited_text()]) == []
    assert validators.check_language(result.text, lang) == []


# -- explain --------------------------------------------------------------------------------------
def _explain(kb: KnowledgeBase, deal: Deal, text: str) -> tuple[Grounding, ExplainResult]:
    g = Grounding(kb, deal.lang, text + "\n" + deal.text())
    return g, explain_offline(kb, g, deal, text, deal.lang)


@pytest.fixture(scope="module")
def explained(kb: KnowledgeBase) -> dict[str, tuple[Grounding, ExplainResult]]:
    return {f"{d.scenario}-{d.lang}": _explain(kb, d, TECH[d.lang]) for d in SAMPLE_DEALS}


@pytest.mark.parametrize("deal", SAMPLE_DEALS, ids=DEAL_IDS)
def test_explain_story_is_grounded_and_jargon_free(
    kb: KnowledgeBase, explained: dict[str, tuple[Grounding, ExplainResult]], deal: Deal
) -> None:
    g, result = explained[f"{deal.scenario}-{deal.lang}"]
    text = TECH[deal.lang]
    _common_checks(result, g, deal.lang, [text, deal.text()])
    assert result.skill == "explain"
    for part in (result.today, result.what_changes, result.proof, result.what_it_means):
        assert part.strip()
    assert validators.check_jargon(result, kb) == []
    for field in (result.today, result.what_changes, result.proof, result.what_it_means):
        assert validators.check_numbers(field, [text, deal.text(), g.cited_text()]) == []

    # Every term of the input is listed; a removed term is really gone from the story.
    story = "\n".join([result.today, result.what_changes, result.proof, result.what_it_means])
    listed = {t.doc_id: t for t in result.terms}
    in_story = {m.entry.id for m in kb.find_terms(story)}
    for match in kb.find_terms(text):
        handling = listed[match.entry.id]
        if handling.handling == "removed":
            assert match.entry.id not in in_story
        else:
            assert handling.plain.strip()
            assert handling.plain == match.entry.plain.get(deal.lang)
    assert any(t.handling == "explained" for t in result.terms)
    assert any(t.handling == "removed" for t in result.terms)

    types = {c.type for c in result.citations}
    assert {"glossary", "case"} <= types
    assert any(c.type == "glossary" and c.doc_id in listed for c in result.citations)
    # The audience is addressed by name, and the sources are listed.
    assert all(role in result.text for role in deal.audience)
    assert ("## 来源" if deal.lang == "zh" else "## Sources") in result.text


@pytest.mark.parametrize("deal", SAMPLE_DEALS, ids=DEAL_IDS)
def test_explain_today_uses_the_buyers_own_figures_or_asks_for_them(
    kb: KnowledgeBase, explained: dict[str, tuple[Grounding, ExplainResult]], deal: Deal
) -> None:
    _, result = explained[f"{deal.scenario}-{deal.lang}"]
    assert deal.customer in result.today
    assert all(clause_of(p) in result.today for p in deal.pains)  # the deal's own pains, numbers and all
    if not any(find_figures(p) for p in deal.pains):  # no figure of the buyer's own: a question to ask for it
        assert "？" in result.today or "?" in result.today
    if deal.goals:  # what it means is tied to the buyer's own goal
        assert clause_of(deal.goals[0]) in result.what_it_means


def clause_of(text: str) -> str:
    return text.rstrip("。.")[1:]


def test_explain_proof_prefers_a_live_case_with_measured_outcomes(
    explained: dict[str, tuple[Grounding, ExplainResult]],
) -> None:
    _, result = explained["traceability-zh"]
    cases = [c for c in result.citations if c.type == "case"]
    assert cases[0].doc_id == "case-walmart-ibm-food-trust"
    assert "2.2" in result.proof
    assert not result.notices
    assert result.rep_notes  # what not to claim about the case goes to the rep


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_says_so_when_the_scenario_has_no_live_measured_case(
    explained: dict[str, tuple[Grounding, ExplainResult]], lang: str
) -> None:
    # Automotive parts has only a pilot without efficiency figures (BMW PartChain).
    _, result = explained[f"automotive_parts-{lang}"]
    assert result.proof.startswith("说实话" if lang == "zh" else "To be honest")
    assert [n.kind for n in result.notices] == ["info"]
    assert any(c.type == "case" for c in result.citations)


def test_explain_is_deterministic(kb: KnowledgeBase) -> None:
    deal = deal_for("supply_chain_finance", "en")
    first = _explain(kb, deal, TECH["en"])[1]
    second = _explain(kb, deal, TECH["en"])[1]
    assert first.model_dump() == second.model_dump()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_without_jargon_in_the_input_still_tells_the_story(kb: KnowledgeBase, lang: str) -> None:
    deal = deal_for("healthcare_data", lang)
    text = "\n".join(deal.pains + deal.goals)
    g, result = _explain(kb, deal, text)
    _common_checks(result, g, lang, [text, deal.text()])
    assert validators.check_jargon(result, kb) == []
    assert all(t.handling == "explained" for t in result.terms)  # only terms that came in with corpus text
    assert "\n- " not in result.what_changes  # sentences, not a list of glossary fragments


def test_explain_accepts_a_term_list(kb: KnowledgeBase) -> None:
    deal = deal_for("judicial_evidence", "zh")
    g, result = _explain(kb, deal, "哈希上链, 时间戳, 司法链")
    _common_checks(result, g, "zh", ["哈希上链, 时间戳, 司法链", deal.text()])
    assert {t.doc_id for t in result.terms} >= {m.entry.id for m in kb.find_terms("哈希上链, 时间戳, 司法链")}
    assert validators.check_jargon(result, kb) == []


# -- ask ------------------------------------------------------------------------------------------
def _ask(kb: KnowledgeBase, question: str, lang: str, deal: Deal | None = None) -> tuple[Grounding, AskResult]:
    g = Grounding(kb, lang, question)
    return g, ask_offline(kb, g, question, lang, deal)


@pytest.mark.parametrize(("lang", "question"), IN_KB, ids=[q for _, q in IN_KB])
def test_ask_answers_in_kb_questions_with_citations(kb: KnowledgeBase, lang: str, question: str) -> None:
    g, result = _ask(kb, question, lang)
    _common_checks(result, g, lang, [question])
    assert result.found
    assert result.citations
    assert not result.notices
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer)}
    assert markers == set(range(1, len(result.citations) + 1))
    sentences = len(re.findall(r"\[\d+\]", result.answer))
    assert 1 <= sentences <= 6
    assert all(f"[{i}] {c.title}" in result.text for i, c in enumerate(result.citations, 1))


def test_ask_walmart_mango_cites_the_case_and_its_figure(kb: KnowledgeBase) -> None:
    _, result = _ask(kb, "沃尔玛芒果溯源从几天缩短到几秒？", "zh")
    assert "case-walmart-ibm-food-trust" in {c.doc_id for c in result.citations}
    assert "2.2" in result.answer
    assert result.citations[0].doc_id == "case-walmart-ibm-food-trust"


@pytest.mark.parametrize(("lang", "question"), OUT_OF_KB, ids=[q for _, q in OUT_OF_KB])
def test_ask_says_the_knowledge_base_has_nothing(kb: KnowledgeBase, lang: str, question: str) -> None:
    g, result = _ask(kb, question, lang)
    _common_checks(result, g, lang, [question])
    assert not result.found
    assert result.citations == []
    assert [n.kind for n in result.notices] == ["no_knowledge"]
    assert not _DIGIT.search(result.answer)


def test_ask_out_of_kb_with_a_deal_is_still_nothing(kb: KnowledgeBase) -> None:
    _, result = _ask(kb, "巴黎明天天气怎么样", "zh", deal_for("traceability", "zh"))
    assert not result.found


def test_ask_with_a_deal_searches_its_scenario_too(kb: KnowledgeBase) -> None:
    deal = deal_for("supply_chain_finance", "zh")
    g, result = _ask(kb, "供应商不愿意加入怎么办？", "zh", deal)
    _common_checks(result, g, "zh", [result.question])
    assert result.found
    scenario_hits = [h for h in g.hits.values() if deal.scenario in h.scenarios]
    assert scenario_hits


@pytest.mark.parametrize(
    ("lang", "question"),
    [("en", "Walmart cut tracing to 1 second, right?"), ("zh", "沃尔玛把溯源缩短到1秒了对吧？")],
)
def test_ask_corrects_a_wrong_figure(kb: KnowledgeBase, lang: str, question: str) -> None:
    g, result = _ask(kb, question, lang)
    _common_checks(result, g, lang, [question])
    assert result.found
    lead = result.answer.split("[1]")[0]
    assert ("知识库的说法不同" if lang == "zh" else "The knowledge base says otherwise") in lead
    assert "2.2" in lead
    assert ("1秒" if lang == "zh" else "1 second") in lead


def test_ask_confirms_a_right_figure_without_correction(kb: KnowledgeBase) -> None:
    _, result = _ask(kb, "Walmart cut mango tracing to 2.2 seconds, right?", "en")
    assert result.found
    assert "says otherwise" not in result.answer
    assert "2.2" in result.answer


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("zh", "区块链存证在法院保证合规吗？"),
        ("en", "Is on-chain evidence legal for sure in court?"),
        ("zh", "个人信息上链保证合规吗"),
    ],
)
def test_ask_legal_certainty_gets_a_caveat(kb: KnowledgeBase, lang: str, question: str) -> None:
    g, result = _ask(kb, question, lang)
    _common_checks(result, g, lang, [question])
    assert result.found and result.citations
    caveat = "法律顾问" if lang == "zh" else "counsel must confirm"
    assert caveat in result.answer
    last = result.answer.rsplit("]", 1)[-1]
    assert caveat in last and not _DIGIT.search(last)


def test_ask_without_a_legal_question_has_no_caveat(kb: KnowledgeBase) -> None:
    _, result = _ask(kb, "What is a consortium chain?", "en")
    assert "counsel" not in result.answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("保证合规吗", True),
        ("is this legal for sure?", True),
        ("Is it legal?", True),
        ("这样做一定合法吗？", True),
        ("What is a consortium chain?", False),
        ("法院认可区块链证据的案例有哪些？", False),
    ],
)
def test_legal_certainty_detection(text: str, expected: bool) -> None:
    assert asks_legal_certainty(text) is expected


@pytest.mark.parametrize(
    ("lang", "question"),
    [("zh", "How long did Walmart's mango trace take?"), ("en", "沃尔玛芒果溯源从几天缩短到几秒？")],
)
def test_ask_answers_in_the_requested_language(kb: KnowledgeBase, lang: str, question: str) -> None:
    g, result = _ask(kb, question, lang)
    _common_checks(result, g, lang, [question])
    assert result.found
    assert validators.check_language(result.answer, lang) == []
    assert all(f":{lang}:" in c.chunk_id for c in result.citations)
    assert "2.2" in result.answer


def test_ask_is_deterministic(kb: KnowledgeBase) -> None:
    first = _ask(kb, "TradeLens为什么关闭？", "zh")[1]
    second = _ask(kb, "TradeLens为什么关闭？", "zh")[1]
    assert first.model_dump() == second.model_dump()


# -- objection ------------------------------------------------------------------------------------
def _objection(kb: KnowledgeBase, deal: Deal, text: str, lang: str) -> tuple[Grounding, ObjectionResult]:
    g = Grounding(kb, lang, text + "\n" + deal.text())
    return g, objection_offline(kb, g, deal, text, lang)


# Each deal answers half of its language's objections (alternating), so every objection is asked in six
# scenarios per language and the test stays fast.
OBJECTION_CASES = [
    (deal, text, concern)
    for n, deal in enumerate(SAMPLE_DEALS)
    for i, (text, concern) in enumerate(OBJECTIONS[deal.lang])
    if (i + n // 2) % 2 == 0
]


@pytest.mark.parametrize(
    ("deal", "text", "concern"),
    OBJECTION_CASES,
    ids=[f"{d.scenario}-{d.lang}-{c}" for d, _, c in OBJECTION_CASES],
)
def test_objection_is_classified_answered_and_grounded(kb: KnowledgeBase, deal: Deal, text: str, concern: str) -> None:
    g, result = _objection(kb, deal, text, deal.lang)
    _common_checks(result, g, deal.lang, [text, deal.text()])
    assert result.skill == "objection"
    assert result.objection == text
    assert result.concern_class == concern and not result.unsure and result.confidence > 0
    assert result.concern.startswith(concern_label(concern, deal.lang))
    assert result.response.strip() and result.question_back.strip()
    assert deal.customer in result.question_back  # the question back is asked in the deal's terms
    assert validators.check_numbers(result.question_back, [text, deal.text(), g.cited_text()]) == []
    assert result.proof
    cited = {c.doc_id for c in result.citations}
    assert set(result.proof) <= cited
    assert any(c.type in ("playbook", "risk") for c in result.citations)


def test_objection_prefers_the_deals_own_playbook(kb: KnowledgeBase) -> None:
    deal = deal_for("traceability", "en")
    _, result = _objection(kb, deal, "Why not just use a database?", "en")
    answer = kb.playbook("traceability").objections[1].answer.en
    assert result.response.startswith(answer)  # the playbook's answer, then a sentence tying it to the deal
    assert deal.customer in result.response.removeprefix(answer)
    assert "case-asx-chess" in result.proof
    assert any(c.doc_id == "playbook-traceability" for c in result.citations)


def test_objection_without_a_playbook_answer_uses_the_closest_risk(kb: KnowledgeBase) -> None:
    deal = deal_for("traceability", "zh")
    _, result = _objection(kb, deal, "太贵了", "zh")
    risks = [c for c in result.citations if c.type == "risk"]
    assert risks
    assert any(r.category == "cost_roi" and r.id == risks[0].doc_id for r in kb.risks)
    assert "我们的做法是" in result.response


def test_objection_in_another_language_is_answered_in_the_deals_language(kb: KnowledgeBase) -> None:
    deal = deal_for("judicial_evidence", "zh")
    g, result = _objection(kb, deal, "Will a regulator accept records from this platform?", "zh")
    _common_checks(result, g, "zh", [result.objection, deal.text()])
    assert result.concern.startswith(concern_label("regulatory_compliance", "zh"))
    assert validators.check_language(result.response, "zh") == []


def test_objection_is_deterministic(kb: KnowledgeBase) -> None:
    deal = deal_for("shipping_logistics", "en")
    first = _objection(kb, deal, "Our suppliers will never join", "en")[1]
    second = _objection(kb, deal, "Our suppliers will never join", "en")[1]
    assert first.model_dump() == second.model_dump()


@pytest.mark.parametrize(
    ("text", "concern"),
    [
        ("供应商不会愿意上链录数据", "partner_adoption"),  # was read as "vendor viability"
        ("数据上链前就是假的", "data_quality"),  # was read as "wrong tool"
        ("What if the data is false before it goes on chain?", "data_quality"),
        ("节点多了会不会卡住", "performance_scale"),
        ("私钥丢了怎么办", "security"),
    ],
)
def test_concern_is_understood_from_labelled_examples(kb: KnowledgeBase, text: str, concern: str) -> None:
    found = classify(kb, text)
    assert found.label == concern and found.label in concern_keys()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unclear_objection_says_so_and_asks(kb: KnowledgeBase, lang: str) -> None:
    deal = deal_for("traceability", lang)
    text = "好的，我知道了" if lang == "zh" else "Hmm, well, I don't know."
    _, result = _objection(kb, deal, text, lang)
    assert result.unsure and result.confidence < 0.45
    assert text in result.question_back  # a clarifying question quoting the buyer
    assert result.rep_notes  # the coaching goes to the rep, not into the response
    assert all(note not in result.response for note in result.rep_notes)
