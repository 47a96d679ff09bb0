"""End to end in a real headless browser: Playwright driving Debian's chromium (/usr/bin/chromium).

Never `playwright install`: the browser is the system's. The flags keep it
offline (no background networking, every host but 127.0.0.1 unresolvable),
and the test also checks that the page itself asks nothing of any other host.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import app_page
from docx import Document as DocxDocument
from samples import deal_for
from ui_support import clone_shipped_index, running_app

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    settings, store = clone_shipped_index(shipped_index, tmp_path_factory.mktemp("ui-browser"))
    with running_app(settings, store) as served:
        yield served


@pytest.fixture(scope="module")
def page(app: tuple[str, Any]) -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    with app_page(app[0], TIMEOUT_MS, accept_downloads=True) as page:
        yield page


def test_chinese_question_streams_a_reply_with_citations_and_takes_feedback(page: Any, app: tuple[str, Any]) -> None:
    page.fill("#chat-input textarea", "沃尔玛芒果溯源从几天缩短到几秒？")
    page.press("#chat-input textarea", "Enter")
    bot = page.locator('[data-testid="bot"]')
    bot.filter(has_text="2.2秒").first.wait_for()
    # Each citation is a collapsed block titled "[n] title · type"; its source links and quote open on click.
    citation = (
        page.locator("#chatbot .thought").filter(has_text=re.compile(r"\[1\] 沃尔玛与IBM Food Trust.*案例")).first
    )
    citation.wait_for()
    quote = citation.get_by_text("芒果溯源时间：从约7天缩短到2.2秒", exact=False)
    assert quote.count() == 0 or not quote.first.is_visible()
    citation.locator(".title").first.click()
    quote.first.wait_for()
    assert citation.get_by_role("link", name="Hyperledger Foundation - Walmart case study").is_visible()

    conversation = app[1].history.list_conversations()[0]
    reply = app[1].history.get(conversation.id).messages[1]
    assert reply.status == "complete" and reply.citations

    page.locator('#chatbot button[aria-label="Like"]').last.click()
    page.locator("#feedback-status").get_by_text("已记录反馈").wait_for()
    page.locator("#feedback-box").get_by_text("提交反馈").first.click()  # the comment box folds away under the chat
    page.fill("#feedback-comment textarea", "数字清楚，来源可靠")
    page.click("#feedback-send")
    page.locator("#feedback-status").get_by_text("已保存反馈意见").wait_for()
    feedback = app[1].history.get(conversation.id).messages[1].feedback
    assert feedback is not None and (feedback.rating, feedback.comment) == (1, "数字清楚，来源可靠")
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=False)


def test_brief_tab_generates_a_brief_with_both_charts_and_a_docx(page: Any, tmp_path: Path) -> None:
    deal = deal_for("traceability", "zh")
    deal_file = tmp_path / "deal.json"
    deal_file.write_text(deal.model_dump_json(), encoding="utf-8")

    page.get_by_role("tab", name="会议简报").click()
    page.locator("#brief-deal-file input[type=file]").set_input_files(str(deal_file))
    page.locator("#brief-customer textarea, #brief-customer input").first.wait_for()
    page.wait_for_function(
        "c => { const el = document.querySelector('#brief-customer textarea, #brief-customer input');"
        " return el && el.value === c; }",
        arg=deal.customer,
    )
    page.click("#brief-generate")
    page.locator("#brief-card").get_by_text(f"一页纸准备卡：{deal.customer}").wait_for()
    page.locator("#risk-heatmap .js-plotly-plot").wait_for()
    page.locator("#milestone-gantt .js-plotly-plot").wait_for()
    assert page.locator("#risk-heatmap .scatterlayer .point").count() >= 3  # one point per risk
    assert page.locator("#milestone-gantt .barlayer .point").count() >= 3  # one bar per phase

    with page.expect_download() as download_info:
        page.click("#download-docx")
    download = download_info.value
    assert download.suggested_filename.endswith(".docx")
    target = tmp_path / download.suggested_filename
    download.save_as(str(target))
    document = DocxDocument(str(target))
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"会议简报：{deal.customer}" in text and "风险清单" in text
    assert document.tables, "the risks and the plan are tables in the .docx"

    page.locator("#brief-card").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "ui-brief.png"), full_page=False)
    shutil.copy(target, ARTIFACTS / "ui-brief.docx")
