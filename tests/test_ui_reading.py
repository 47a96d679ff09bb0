"""The deal panel's reading and the vendor profile in Settings, through the app's API (gradio_client).

The app runs in this process on a free port over a private copy of the session index (its own
NEGO_HOME): the reading shows each constraint with its class and what was read from it, the industry,
the chain type and the vendor gaps, in the interface language; the vendor profile is checked, saved
and used by the next reading, and a bad edit changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from ui_support import clone_shipped_index, deal_fields, running_app, text_of, update_value

from ui.deal_form import FIELDS

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vendor.yaml"


@pytest.fixture(scope="module")
def app(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    settings, store = clone_shipped_index(shipped_index, tmp_path_factory.mktemp("ui-reading"))
    with running_app(settings, store) as served:
        yield served


@pytest.fixture(scope="module")
def client(app: tuple[str, Any]) -> Client:
    return Client(app[0], verbose=False, download_files=False)


def reading(client: Client, lang: str, **fields: str) -> str:
    values = {**deal_fields(), **fields}
    return str(client.predict(*[values[f] for f in FIELDS], lang, api_name="/deal_reading"))


def row(text: str, constraint: str) -> str:
    """The table row of `constraint` in the reading."""
    found = [line for line in text.splitlines() if line.startswith("|") and constraint in line]
    assert len(found) == 1, (constraint, text)
    return found[0]


ZH_DEAL = {
    "industry": "乳制品",
    "scenario": "traceability",
    "language": "zh",
    "pains": "出了质量问题追溯奶源要好几天",
    "budget": "预算300万元以内",
    "timeline": "6个月内上线试点",
    "constraints": "须通过等保三级\n数据不出政务外网\n每周五下午不安排会议",
}


def test_the_reading_shows_each_constraint_class_industry_and_chain_in_chinese(client: Client) -> None:
    text = reading(client, "zh", **ZH_DEAL)
    assert "**链型：** 联盟链（按场景默认）" in text
    assert "| 预算 |" in row(text, "预算300万元以内") and "3,000,000 CNY" in row(text, "预算300万元以内")
    assert "| 时间 |" in row(text, "6个月内上线试点") and "6 个月" in row(text, "6个月内上线试点")
    compliance = row(text, "须通过等保三级")
    assert "| 合规 |" in compliance and "等保" in compliance.split("|")[3]
    assert (
        "| 数据驻留 / 网络边界 |" in row(text, "数据不出政务外网")
        and "政务外网" in row(text, "数据不出政务外网").split("|")[3]
    )
    assert "| 其他 |" in row(text, "每周五下午不安排会议")  # unclassified, still shown
    assert "行业：** 乳制品" in text
    assert "还没有我方产品档案" in text and "设置" in text  # says how to add one
    assert "Budget" not in text and "Industry" not in text  # one language at a time


def test_the_reading_in_english_and_when_no_industry_matches(client: Client) -> None:
    text = reading(
        client,
        "en",
        industry="interplanetary mining",
        scenario="trade_finance",
        region="eu",
        language="en",
        pains="letters of credit take ten days to check",
        budget="EUR 2m",
        timeline="end of Q2 2027",
        constraints="must comply with DORA\nno customer data outside the EU",
    )
    assert "amount 2,000,000 EUR" in row(text, "EUR 2m") and "| budget |" in row(text, "EUR 2m")
    assert "by 2027-06" in row(text, "end of Q2 2027")
    dora = row(text, "must comply with DORA")
    assert "| compliance |" in dora and "DORA" in dora.split("|")[3]
    assert "EU" in row(text, "no customer data outside the EU").split("|")[3]
    assert "no industry lexicon matched" in text and "**Chain type:** consortium chain" in text
    assert "No vendor profile yet" in text and "预算" not in text


def test_a_bad_deal_is_told_in_the_panel(client: Client) -> None:
    too_many = "\n".join(f"pain number {n}" for n in range(200))
    text = reading(client, "en", pains=too_many, language="en")
    assert text.startswith("⚠ The deal has a problem:") and "pains" in text


def test_the_vendor_profile_is_checked_saved_and_used_and_a_bad_edit_loses_nothing(
    client: Client, app: tuple[str, Any]
) -> None:
    ctx = app[1]
    saved = ctx.settings.home_dir / "vendor.yaml"
    bad = "company: Acme\nproduct: Ledger\ncapabilities: all of them\n"
    message, _ = client.predict(bad, "en", api_name="/save_vendor")
    assert "was not saved" in message and "vendor.yaml:3: capabilities" in message  # names line and field
    assert not saved.exists() and ctx.copilot.vendor is None

    example = client.predict(api_name="/vendor_example")
    assert update_value(example) == EXAMPLE.read_text(encoding="utf-8")
    message, status = client.predict(EXAMPLE.read_text(encoding="utf-8"), "zh", api_name="/save_vendor")
    assert message.startswith("✅") and "ChainTrust" in status
    assert saved.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")
    assert ctx.copilot.vendor is not None and "ChainTrust" in ctx.copilot.vendor.product

    text = reading(client, "zh", **{**ZH_DEAL, "systems": "SAP\n某自研WMS"})
    assert "我方产品：** 链信联盟链平台" in text
    assert "我方方案未覆盖的需求" in text and "某自研WMS" in text and "| SAP" not in text  # SAP is integrated

    typo = EXAMPLE.read_text(encoding="utf-8").replace("capabilities:", "capabilites:")
    message, _ = client.predict(typo, "zh", api_name="/save_vendor")
    assert "未保存" in message and "capabilites: unknown field" in message
    assert saved.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")  # the good profile stays
    assert ctx.copilot.vendor is not None


def test_a_constraint_stated_in_chat_is_picked_up_into_the_deal_panel(client: Client) -> None:
    fields = {**deal_fields(), "pains": "出了问题追溯要好几天", "language": "zh"}
    out = client.predict(message="他们要求等保三级", conversation_id=None, api_name="/chat", **fields)
    messages, notices = out[0], out[3]
    assert "等保三级" in notices and any("等保" in text_of(m) for m in messages)
    assert update_value(out[-1]) == "他们要求等保三级"  # the other-constraints box gained it
