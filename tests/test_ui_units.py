"""The UI's small pieces: login parsing, the binding warning, escaping, the deal panel, file names."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.deal import DealError
from ui.auth import AuthError, binding_warning, checker, parse_auth, users_file_warning
from ui.brief import export_name
from ui.deal_form import deal_from_values, read_form, values_from_deal
from ui.knowledge import pasted_name
from ui.render import safe_md, source_links


def test_auth_from_a_pair_or_a_users_file(tmp_path: Path) -> None:
    assert parse_auth("rep:pa:ss") == {"rep": "pa:ss"}
    users = tmp_path / "users.txt"
    users.write_text("# team\nalice:one\n\nbob:two\n", encoding="utf-8")
    users.chmod(0o600)
    assert parse_auth(str(users)) == {"alice": "one", "bob": "two"}
    assert users_file_warning(str(users)) is None
    users.chmod(0o644)
    assert "chmod 600" in (users_file_warning(str(users)) or "")
    for bad in ("", "no-colon", ":nopass-user", "user:"):
        with pytest.raises(AuthError):
            parse_auth(bad)
    broken = tmp_path / "broken.txt"
    broken.write_text("alice:one\nbob\n", encoding="utf-8")
    with pytest.raises(AuthError, match=r"broken.txt:2: expected user:password"):
        parse_auth(str(broken))


def test_checker_accepts_only_the_right_password() -> None:
    check = checker({"alice": "one"})
    assert check("alice", "one")
    assert not check("alice", "two") and not check("bob", "one") and not check("alice", "")


def test_binding_elsewhere_without_login_warns() -> None:
    assert binding_warning("127.0.0.1", False) is None
    assert binding_warning("::1", False) is None
    assert binding_warning("0.0.0.0", True) is None
    warning = binding_warning("0.0.0.0", False)
    assert warning and "without login" in warning and "NEGO_AUTH" in warning


def test_text_from_the_model_or_corpus_is_inert() -> None:
    assert safe_md("<script>alert(1)</script> **bold**") == "&lt;script&gt;alert(1)&lt;/script&gt; **bold**"
    assert safe_md("![x](https://evil.example/?q=secret)") == "!\\[x](https://evil.example/?q=secret)"
    assert safe_md("[click](javascript:alert(1))") == "[click]\\(javascript:alert(1))"
    assert safe_md("[ok](https://example.org)") == "[ok](https://example.org)"


def test_source_links_survive_brackets_and_parentheses() -> None:
    from copilot.corpus.models import Source

    links = source_links([Source(title="Report [2023]", url="https://example.org/a_(b)")])
    assert links == "[Report \\[2023\\]](https://example.org/a_%28b%29)"


def test_deal_panel_values_to_deal_and_back() -> None:
    values = {
        "customer": "",
        "scenario": "supply_chain_finance",
        "region": "cn",
        "language": "auto",
        "audience": "CFO\n\n资金部总经理\n",
        "pains": "二级供应商融资难",
        "goals": "",
        "budget": "500万",
        "stage": "proposal",
    }
    deal = deal_from_values(values, message_lang="zh")
    assert deal.customer is None and deal.audience == ["CFO", "资金部总经理"] and deal.lang == "zh"
    assert deal.constraints.budget == "500万" and deal.stage == "proposal"
    back = values_from_deal(deal)
    assert back[0] == "" and back[5] == "CFO\n资金部总经理" and back[9] == "500万"
    english = deal_from_values({"scenario": "traceability", "language": "auto"}, message_lang="en")
    assert english.customer is None and english.lang == "en"  # the language follows the conversation
    assert "the customer" not in english.model_dump_json() and english.who() == "the customer"


def test_other_constraints_one_per_line_and_a_deal_files_constraints_come_back_into_the_panel() -> None:
    from copilot.deal import deal_from_data
    from ui.deal_form import FIELDS

    deal = deal_from_values(
        {"scenario": "traceability", "budget": "预算300万元以内", "constraints": "等保三级\n\n数据不出政务外网\n"}
    )
    assert deal.constraints.budget == "预算300万元以内"
    assert deal.constraints.sentences == ["等保三级", "数据不出政务外网"]  # classified by copilot.reading
    from_file = deal_from_data(
        {
            "scenario": "traceability",
            "constraints": {
                "timeline": "6个月内",
                "compliance": ["GDPR"],
                "data_residency": ["EU only"],
                "other": ["x"],
            },
        }
    )
    back = dict(zip(FIELDS, values_from_deal(from_file), strict=True))
    assert back["timeline"] == "6个月内" and back["constraints"] == "GDPR\nEU only\nx"  # nothing of the file is lost


def test_a_long_deal_item_is_cut_with_a_notice_not_refused() -> None:
    reading = read_form({"scenario": "traceability", "pains": "供应商不愿意录入数据。" * 80}, message_lang="zh")
    (pain,) = reading.deal.pains
    assert len(pain) <= 500 and reading.rest and len(pain) + len(reading.rest) >= 800
    (notice,) = reading.notices
    assert notice.kind == "truncated" and "痛点" in notice.message and "知识库笔记" in notice.message
    with pytest.raises(DealError, match="scenario"):
        deal_from_values({"scenario": "not-a-scenario", "customer": "ACME"})


def test_file_names() -> None:
    assert export_name("鲜果供应链集团") == "brief-鲜果供应链集团"
    assert export_name("../../etc/passwd") == "brief-etc-passwd"
    assert export_name("  ") == "brief"
    assert pasted_name("---\nid: case-new-one\ntype: case\n", "markdown") == "case-new-one.md"
    assert pasted_name("- id: term-x\n  type: glossary\n", "yaml") == "term-x.yaml"
    assert pasted_name("no id here", "yaml") == "pasted-document.yaml"


def test_a_users_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_bytes("rep:密码".encode("gbk"))
    with pytest.raises(AuthError, match=r"users\.txt: not UTF-8"):
        parse_auth(str(users))
