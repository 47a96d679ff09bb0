"""The Negotiate tab and the deal panel's health check in a real headless browser (Debian's chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import app_page
from ui_support import clone_shipped_index, running_app

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def page(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    settings, store = clone_shipped_index(shipped_index, tmp_path_factory.mktemp("ui-negotiate"))
    with running_app(settings, store) as served, app_page(served[0], TIMEOUT_MS) as page:
        yield page


def test_negotiate_tab_renders_the_ladder_as_table_and_chart(page: Any) -> None:
    page.get_by_role("tab", name="谈判").click()
    page.click("#nego-generate")
    page.locator("#nego-plan").get_by_text("谈判方案：华东汽配集团").wait_for()
    page.wait_for_function("() => document.querySelector('#nego-ladder').innerText.includes('软件许可费')")
    table = page.locator("#nego-ladder").inner_text()
    assert "第4步" in table and "263" in table  # step 1's licence fee, decided by the rules
    page.locator("#nego-chart .js-plotly-plot").first.wait_for()
    assert page.locator("#nego-chart .scatterlayer .trace").count() == 4  # one line per issue
    plan = page.locator("#nego-plan").inner_text()
    assert "底线" in plan and "先试点，再扩展" in plan
    page.screenshot(path=str(ARTIFACTS / "ui-negotiate.png"), full_page=False)


def test_deal_panel_shows_deal_health(page: Any) -> None:
    page.get_by_role("tab", name="对话").click()
    page.click("#deal-health-check")
    health = page.locator("#deal-health")
    health.get_by_text("Economic buyer", exact=False).or_(health.get_by_text("经济决策人")).first.wait_for()
    text = health.inner_text()
    assert text.count("🟢") + text.count("🟠") + text.count("🔴") == 10
