"""Personal data never leaves the machine for a remote model: detection, placeholders, restoration, end to end.

Detection is held to both sides: phone numbers, e-mails, resident ID numbers and bank card numbers
in Chinese and English text are found, and the figures a negotiation is full of (amounts, durations,
dates, article and standard numbers) are not; the shipped corpus passes through untouched. End to end,
the real openai client talks to the test server: the recorded requests hold placeholders only, and
the answer the user sees has the real values back.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openai_server import OpenAIServer, ReplyJSON
from pydantic import SecretStr
from samples import deal_for

from copilot.core import Copilot
from copilot.deal import Deal
from copilot.privacy import (
    Redactor,
    find_pii,
    is_local_endpoint,
    is_local_url,
    luhn_valid,
    redaction_enabled,
    valid_card,
    valid_resident_id,
)
from copilot.prompts import LANGUAGES, SKILLS, prompt_path
from copilot.settings import Settings


# -- independent reference implementations (not the module's own) -----------------------------------
def with_id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2, computed the recursive way: p = (p + d) * 2 mod 11, check = (12 - p) mod 11."""
    p = 0
    for ch in first17:
        p = ((p + int(ch)) * 2) % 11
    check = (12 - p) % 11
    return first17 + ("X" if check == 10 else str(check))


def with_luhn_digit(prefix: str) -> str:
    """The Luhn check digit appended: the one digit making the doubled-alternate sum a multiple of 10."""
    for digit in "0123456789":
        number = prefix + digit
        total = sum(int(d) if i % 2 == 0 else sum(divmod(int(d) * 2, 10)) for i, d in enumerate(reversed(number)))
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable")


def kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.value) for m in find_pii(text)]


ID_X = "11010519491231002X"  # the textbook example, check character X
ID_DIGIT = with_id_check("44030619900307123")
CARD_UNIONPAY = with_luhn_digit("622202123456789012")  # 19 digits
CARD_VISA = with_luhn_digit("436742123456789")  # 16 digits


# -- detection: true positives --------------------------------------------------------------------
@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "+8613812345678",
        "0086 13812345678",
        "(+86) 13812345678",
        "19912345678",
        "010-12345678",
        "(0755) 8765 4321",
        "021 6123 4567",
        "0571-87654321",
        "+44 20 7946 0958",
        "+1 (415) 555-2671",
        "+49-30-1234567",
    ],
)
def test_phone_numbers_are_found_in_zh_and_en(phone: str) -> None:
    assert kinds(f"客户王经理的电话是{phone}，请尽快联系。") == [("phone", phone)]
    assert kinds(f"Call Ms Wang on {phone} before Friday.") == [("phone", phone)]


@pytest.mark.parametrize(
    "email", ["zhang.san@example.com", "john.doe+deals@corp.co.uk", "li_si-2024@mail.hospital.org.cn", "A@B.IO"]
)
def test_email_addresses_are_found(email: str) -> None:
    assert kinds(f"邮箱：{email}，抄送财务") == [("email", email)]
    assert kinds(f"write to <{email}>.") == [("email", email)]


def test_resident_id_numbers_need_a_real_date_and_the_check_character() -> None:
    for number in (ID_X, ID_X.lower(), ID_DIGIT, with_id_check("51010720000229401")):  # 29 Feb 2000 existed
        assert valid_resident_id(number), number
        assert kinds(f"身份证号{number}。") == [("id", number)]
    assert kinds("ID 110105 19491231 002X on file") == [("id", "110105 19491231 002X")]
    wrong_check = ID_DIGIT[:17] + ("0" if ID_DIGIT[17] != "0" else "1")
    no_such_day = with_id_check("51010720010229401")  # 2001 was not a leap year
    future = with_id_check(f"110105{(date.today() + timedelta(days=400)):%Y%m%d}001")
    before_1900 = with_id_check("11010518991231002")
    bad_region = with_id_check("91010519491231002")
    for number in (wrong_check, no_such_day, future, before_1900, bad_region, ID_X[:17], ID_X + "1"):
        assert not valid_resident_id(number), number
        assert all(m.kind != "id" for m in find_pii(f"编号 {number} 。")), number


def test_bank_card_numbers_need_luhn_and_a_card_network_prefix() -> None:
    grouped = " ".join(CARD_VISA[i : i + 4] for i in range(0, 16, 4))
    dashed = "-".join(CARD_VISA[i : i + 4] for i in range(0, 16, 4))
    for text in (CARD_UNIONPAY, CARD_VISA, grouped, dashed, "4111 1111 1111 1111", "3782 822463 10005"):
        assert kinds(f"回款账户 {text} 。") == [("card", text)], text
        assert kinds(f"Pay to card {text}.") == [("card", text)], text
    broken = CARD_VISA[:-1] + str((int(CARD_VISA[-1]) + 1) % 10)
    assert luhn_valid(CARD_VISA) and not luhn_valid(broken)
    for digits in (broken, with_luhn_digit("12345678901234"), with_luhn_digit("7" * 15), "0" * 16):
        assert not valid_card(digits), digits
        assert all(m.kind != "card" for m in find_pii(f"编号 {digits} 。")), digits
    assert not valid_card(with_luhn_digit("62220212345"))  # 12 digits: too short


# -- detection: what must pass through ----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "沃尔玛芒果溯源从7天缩短到2.2秒，融资规模13亿元，覆盖1,300,000,000元应收账款。",
        "2018年8月10日上线；《数据安全法》第21条；GB/T 22239-2019 等级保护；GB 18030-2005。",
        "RMB 1.3bn, USD 15,000,000,000, 0.5%, +30%, 12.5% growth, ISO/IEC 27001:2013, 2019-2020, 2020–2023.",
        "账期长达90天，审批从7天缩短到1天，节省成本约35%，覆盖12个省份、1500家供应商。",
        "Article 17 GDPR; Regulation (EU) 2016/679; eIDAS 910/2014; Section 230; 99.99% uptime; 3,000 TPS.",
        "项目编号 2023-0457，合同号 HT-2021-00018，版本 v2.10.3，端口 8080，IPv4 192.168.10.25。",
        "years 2018 2019 2020 2021 2022, and the index 1234 5678.",
    ],
)
def test_figures_are_not_personal_data(text: str) -> None:
    assert find_pii(text) == []


def test_overlaps_resolve_to_one_match() -> None:
    assert kinds("13812345678@163.com") == [("email", "13812345678@163.com")]
    assert kinds(f"{ID_X}") == [("id", ID_X)]  # not also a phone or a card
    text = f"电话13812345678，身份证{ID_DIGIT}，卡号{CARD_UNIONPAY}，邮箱a.b@c.cn"
    assert [k for k, _ in kinds(text)] == ["phone", "id", "card", "email"]


# -- placeholders and restoration -----------------------------------------------------------------
def test_same_value_same_placeholder_and_restoration() -> None:
    redactor = Redactor()
    text = f"王经理 138 1234 5678，备用 +86 13912345678；再打一次 +86-138-1234-5678。证件 {ID_X}，邮箱 W.Li@Example.com"
    redacted = redactor.redact(text)
    assert redacted == ("王经理 [PHONE_1]，备用 [PHONE_2]；再打一次 [PHONE_1]。证件 [ID_1]，邮箱 [EMAIL_1]")
    assert redactor.redact("w.li@example.com") == "[EMAIL_1]"  # case of an e-mail does not matter
    assert redactor.redact(redacted) == redacted  # placeholders are not personal data themselves
    restored = redactor.restore(redacted)
    assert "138 1234 5678" in restored and "+86 13912345678" in restored and ID_X in restored
    assert redactor.restore("call PHONE_2, or 【PHONE_1】, or [ PHONE_1 ]; [PHONE_9] stays") == (
        "call +86 13912345678, or 138 1234 5678, or 138 1234 5678; [PHONE_9] stays"
    )
    nested = {"a": ["[EMAIL_1]", {"b": "x [ID_1]"}], "n": 3, "flag": True, "none": None}
    assert redactor.restore_data(nested) == {
        "a": ["W.Li@Example.com", {"b": f"x {ID_X}"}],
        "n": 3,
        "flag": True,
        "none": None,
    }
    assert Redactor().restore("[PHONE_1]") == "[PHONE_1]"  # another request's placeholders mean nothing


def test_notice_names_kinds_and_counts_never_values() -> None:
    redactor = Redactor()
    sent = redactor.redact(f"13812345678, 13912345678, a@b.cn, {ID_X}, {CARD_VISA}")
    zh, en = redactor.notice("zh", [sent]), redactor.notice("en", [sent])
    assert zh is not None and en is not None and zh.kind == en.kind == "redaction"
    assert "2 个电话号码" in zh.message and "1 个身份证号" in zh.message and "1 个银行卡号" in zh.message
    assert "2 phone numbers" in en.message and "1 e-mail address" in en.message and "1 bank card number" in en.message
    for value in ("13812345678", "a@b.cn", ID_X, CARD_VISA):
        assert value not in zh.message and value not in en.message
    # Only what was actually sent counts: a value cut from the prompt before sending was never disclosed.
    assert redactor.replaced(["only [PHONE_2] went out"]) == {"phone": 1}
    assert Redactor().notice("en") is None


# -- when to redact -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000/v1", True),
        ("http://127.8.9.10:11434/v1", True),
        ("http://localhost:8080/v1", True),
        ("http://LOCALHOST./v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://192.168.1.20:8000/v1", False),
        ("https://api.deepseek.com/v1", False),
        ("http://127.0.0.1.example.com/v1", False),
        ("http://localhost.evil.com/v1", False),
    ],
)
def test_local_urls(url: str, local: bool) -> None:
    assert is_local_url(url) is local


@pytest.mark.parametrize(
    ("provider", "base_url", "local"),
    [
        ("openai", None, False),
        ("deepseek", None, False),
        ("qwen", None, False),
        ("ollama", None, True),
        ("vllm", None, True),
        ("llamacpp", None, True),
        ("vllm", "http://gpu-box.internal:8000/v1", False),
        ("openai", "http://127.0.0.1:4000/v1", True),  # a local proxy
        ("custom", "https://llm.example.com/v1", False),
        ("custom", "http://127.0.0.1:9000/v1", True),
        ("custom", None, False),
        ("offline", None, True),
    ],
)
def test_endpoint_locality_and_auto_redaction(provider: str, base_url: str | None, local: bool) -> None:
    settings = Settings(provider=provider, base_url=base_url)  # type: ignore[arg-type]
    assert is_local_endpoint(settings) is local
    assert redaction_enabled(settings) is (not local)  # "auto", the default
    assert redaction_enabled(settings.model_copy(update={"redact_pii": "on"}))
    assert not redaction_enabled(settings.model_copy(update={"redact_pii": "off"}))


# -- no false positives on the shipped corpus and the prompts ---------------------------------------
def test_shipped_corpus_has_no_detections(shipped_index: Any) -> None:
    _, store, _ = shipped_index
    rows = store.rows()
    assert len(rows) > 1000
    found = [
        f"{row.chunk_id}: {m.kind} {m.value!r}"
        for row in rows
        for text in (row.text, row.title_zh, row.title_en, row.doc_id, row.heading)
        for m in find_pii(text)
    ]
    assert found == []


def test_retrieved_passages_and_prompts_pass_through_unchanged(kb: Any) -> None:
    redactor = Redactor()
    for scenario in ("traceability", "supply_chain_finance", "e_invoice", "judicial_evidence"):
        for lang in ("zh", "en"):
            deal = deal_for(scenario, lang)
            for hit in kb.search(deal.text(), k=8):
                assert redactor.redact(hit.text) == hit.text
    for skill in (*SKILLS, "system", "retry"):
        for lang in LANGUAGES:
            assert find_pii(prompt_path(skill, lang).read_text(encoding="utf-8")) == [], (skill, lang)
    assert redactor.replaced() == {}


# -- end to end against the test server -------------------------------------------------------------
PHONE, EMAIL = "138 1234 5678", "wang.jl@example.com"
RAW_VALUES = (PHONE, "13812345678", EMAIL, ID_X, CARD_UNIONPAY)


def pii_deal() -> Deal:
    base = deal_for("supply_chain_finance", "zh")
    pains = [*base.pains, f"回款账户 {CARD_UNIONPAY} 的对账经常出错，法人身份证 {ID_X} 需人工核验"]
    return base.model_copy(update={"pains": pains})


QUESTION = f"沃尔玛芒果溯源从几天缩短到几秒？回头把答案发给王经理，电话 {PHONE}，邮箱 {EMAIL}"
REPLY = {
    "question": "沃尔玛芒果溯源从几天缩短到几秒？回头把答案发给王经理，电话 [PHONE_1]，邮箱 [EMAIL_1]",
    "answer": "资料显示溯源时间大幅缩短。可以发给王经理（电话 [PHONE_1]，邮箱 [EMAIL_1]）；"
    "身份证 [ID_1] 和回款账户 [CARD_1] 只在开户核验时使用。",
    "found": True,
    "cited": ["C1"],
}


def llm_copilot(kb: Any, server: OpenAIServer, tmp_path: Path, redact: str) -> Copilot:
    settings = Settings(
        home=tmp_path / "home",
        provider="custom",
        base_url=server.base_url,
        model="test-model",
        api_key=SecretStr("sk-test"),
        max_retries=0,
        redact_pii=redact,  # type: ignore[arg-type]
    )
    copilot = Copilot.open(settings, kb)
    assert copilot.mode == "llm"
    return copilot


def sent_text(server: OpenAIServer) -> str:
    return "\n".join(json.dumps(r.body["messages"], ensure_ascii=False) for r in server.chat_requests())


def test_remote_request_carries_placeholders_and_the_answer_the_values(
    kb: Any, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(ReplyJSON(REPLY))
    result = llm_copilot(kb, openai_server, tmp_path, "on").ask(QUESTION, pii_deal())
    assert result.mode == "llm", result.notices
    sent = sent_text(openai_server)
    for value in RAW_VALUES:
        assert value not in sent, value
    for placeholder in ("[PHONE_1]", "[EMAIL_1]", "[ID_1]", "[CARD_1]"):
        assert placeholder in sent, placeholder
    assert "[C1]" in sent  # the passages went out as they are
    for value in (PHONE, EMAIL, ID_X, CARD_UNIONPAY):
        assert value in result.text and value in result.answer, value
    assert "[PHONE_1]" not in result.text and "[CARD_1]" not in result.text
    (notice,) = [n for n in result.notices if n.kind == "redaction"]
    assert "1 个电话号码" in notice.message and "1 个银行卡号" in notice.message
    assert all(value not in notice.message for value in RAW_VALUES)


def test_retry_follow_up_is_redacted_too(kb: Any, openai_server: OpenAIServer, tmp_path: Path) -> None:
    bad = {**REPLY, "cited": ["C1", "C99"]}  # a passage id that was not given: one retry
    openai_server.script(ReplyJSON(bad), ReplyJSON(REPLY))
    result = llm_copilot(kb, openai_server, tmp_path, "on").ask(QUESTION, pii_deal())
    assert result.mode == "llm", result.notices
    first, second = openai_server.chat_requests()
    assert len(second.body["messages"]) == len(first.body["messages"]) + 2
    assert "[PHONE_1]" in second.body["messages"][-2]["content"]  # the model's own answer, sent back as it was
    sent = sent_text(openai_server)
    assert all(value not in sent for value in RAW_VALUES)
    assert PHONE in result.text


def test_redaction_off_sends_the_values(kb: Any, openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.script(ReplyJSON(REPLY))
    result = llm_copilot(kb, openai_server, tmp_path, "off").ask(QUESTION, pii_deal())
    sent = sent_text(openai_server)
    assert PHONE in sent and EMAIL in sent and ID_X in sent and CARD_UNIONPAY in sent
    assert "[PHONE_1]" not in sent
    assert not [n for n in result.notices if n.kind == "redaction"]


def test_auto_does_not_redact_for_a_local_endpoint(kb: Any, openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.script(ReplyJSON(REPLY))
    copilot = llm_copilot(kb, openai_server, tmp_path, "auto")
    assert is_local_endpoint(copilot.settings)  # the test server listens on 127.0.0.1
    result = copilot.ask(QUESTION, pii_deal())
    sent = sent_text(openai_server)
    assert PHONE in sent and ID_X in sent and "[PHONE_1]" not in sent
    assert not [n for n in result.notices if n.kind == "redaction"]


def test_the_chat_tab_shows_that_redaction_happened(
    kb: Any, shipped_index: Any, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    """The rep sees, under the reply, that personal data was replaced before it left (kinds and counts only)."""
    from ui_support import deal_fields, text_of

    from copilot.history import History
    from ui.chat import stream_reply
    from ui.context import AppContext

    copilot = llm_copilot(kb, openai_server, tmp_path, "on")
    _, store, _ = shipped_index
    ctx = AppContext(copilot.settings, store, copilot, History.open(copilot.settings), tmp_path / "files")
    openai_server.script(ReplyJSON(REPLY))
    *_, final = stream_reply(ctx, QUESTION, None, deal_fields(pii_deal()), "")
    messages, notices = final[0], final[3]
    assert "redaction" in notices and "1 个电话号码" in notices
    assert all(value not in notices for value in RAW_VALUES)
    replies = [text_of(m) for m in messages if m["role"] == "assistant" and not m.get("metadata")]
    assert replies and PHONE in replies[-1] and "[PHONE_1]" not in replies[-1]  # the reply shows the real value


# -- issue 16: legacy 15-digit IDs and North American numbers without +1 ------------------------------
LEGACY_ID = "110105491231002"  # the 18-digit textbook example's first generation: 19491231, sequence 002


@pytest.mark.parametrize(
    "text",
    [LEGACY_ID, "110105 491231 002", "440306-900307-123", "510107000229401"],  # 29 Feb 1900 did not exist
)
def test_legacy_15_digit_resident_ids_are_found(text: str) -> None:
    found = kinds(f"法人老身份证{text}，请核对。")
    if text == "510107000229401":  # 1900 was not a leap year
        assert found == []
        return
    assert found == [("id", text)]
    assert kinds(f"Legacy ID {text} on file.") == [("id", text)]


def test_legacy_ids_need_a_province_a_real_date_and_a_sequence() -> None:
    for number in ("910105491231002", "110105491331002", "110105490230002", "110105491231000", "100105491231002"):
        assert find_pii(f"编号 {number} 。") == [], number
    assert find_pii("金额 130000000000000 元，即 1.3e14") == []  # no province 13 date 000000
    redactor = Redactor()
    assert redactor.redact(f"旧证 {LEGACY_ID}，新证 {ID_X}") == "旧证 [ID_1]，新证 [ID_2]"
    assert redactor.restore("[ID_1]") == LEGACY_ID


@pytest.mark.parametrize(
    "phone",
    [
        "(415) 555-2671",
        "(415)555-2671",
        "415-555-2671",
        "415.555.2671",
        "1-415-555-2671",
        "1 (212) 736-5000",
        "415-555-2671 ext. 12",
    ],
)
def test_us_phone_numbers_without_plus_one_are_found(phone: str) -> None:
    assert kinds(f"Call Ms Wang on {phone} before Friday.") == [("phone", phone)]
    assert kinds(f"美国客户电话{phone}，周五前联系。") == [("phone", phone)]


def test_us_numbers_with_and_without_plus_one_share_a_placeholder() -> None:
    redactor = Redactor()
    assert redactor.redact("+1 (415) 555-2671 or 415-555-2671") == "[PHONE_1] or [PHONE_1]"


@pytest.mark.parametrize(
    "text",
    [
        "ISBN 978-3-16-148410-0; DOI 10.1000/182; 555-2671 alone; 415-555-26710; 015-555-2671; 415-155-2671",
        "mixed separators 415-555.2671; ranges 300-500 and 1000-2000; version 4.15.555; 2019.10.2020",
        "fiscal 2021-2022-2023 and 200 300 4000 tons",
    ],
)
def test_figures_that_look_like_us_numbers_are_not(text: str) -> None:
    assert find_pii(text) == [], find_pii(text)
