"""The Practice and Recap tabs in a real headless browser (Playwright + Debian's chromium, never downloaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM, CHROMIUM_FLAGS
from ui_support import clone_shipped_index, running_app

pytestmark = pytest.mark.slow

TIMEOUT_MS = 90_000
SCRIPT = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "roleplay" / "cfo.zh.good.txt"


@pytest.fixture(scope="module")
def page(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is required: apt-get install chromium"
    settings, store = clone_shipped_index(shipped_index, tmp_path_factory.mktemp("ui-meeting"))
    with running_app(settings, store) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(served[0])
        page.wait_for_selector("#chat-input textarea")
        yield page
        context.close()
        browser.close()


def test_practice_tab_plays_a_script_and_a_live_turn(page: Any) -> None:
    page.get_by_role("tab", name="练习").click()
    lines = [s for s in SCRIPT.read_text(encoding="utf-8").splitlines() if s.strip() and not s.startswith("#")]
    page.fill("#rp-script textarea", "\n".join(lines))
    page.click("#rp-run-script")
    page.locator("#rp-scorecard").get_by_text("评分卡").wait_for()
    page.locator("#rp-scorecard").get_by_text("争取到下一步：10/10").wait_for()
    assert page.locator("#rp-chat").get_by_text("我时间不多").count() >= 1
    page.click("#rp-start")
    page.locator("#rp-chat").get_by_text("我时间不多").wait_for()
    page.fill("#rp-input textarea", "我们基于PBFT共识。")
    page.click("#rp-send")
    page.locator("#rp-chat").get_by_text("技术名词").wait_for()
    page.click("#rp-end")
    page.locator("#rp-scorecard").get_by_text("避免或解释术语：0/10").wait_for()


def test_recap_tab_recaps_saves_and_restores(page: Any) -> None:
    page.get_by_role("tab", name="会后纪要").click()
    page.click("#recap-run")
    page.locator("#recap-text").get_by_text("会议纪要：北方乳业集团").wait_for()
    page.locator("#recap-text").get_by_text("不确定的说法").wait_for()
    assert "双方同意先选两个牧场" in page.locator("#recap-email textarea").input_value()
    page.click("#recap-save")
    page.locator("#recap-saved").get_by_text("已保存为第 2 版").wait_for()
    page.locator("#recap-versions").get_by_text("v2").wait_for()
    page.fill("#recap-version input", "1")
    page.click("#recap-restore")
    page.locator("#recap-saved").get_by_text("v1 → v3").wait_for()
