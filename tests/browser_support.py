"""Debian's chromium for browser tests: never `playwright install` (it downloads a browser)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from copilot.export_pdf import FLAGS

CHROMIUM = Path("/usr/bin/chromium")

# Headless as root, and no background traffic: the one list of flags, shared with the PDF export.
CHROMIUM_FLAGS = list(FLAGS)

WIDE = {"width": 1440, "height": 1000}
LOCAL_HOSTS = {"127.0.0.1", ""}


def open_page(
    browser: Any,
    url: str,
    timeout_ms: int,
    *,
    viewport: dict[str, int] = WIDE,
    locale: str = "en-US",
    accept_downloads: bool = False,
) -> tuple[Any, Any, set[str]]:
    """(context, page, hosts) for the app at `url`, once its chat input is there; `hosts` collects every host
    the page asks (the caller checks it is within LOCAL_HOSTS)."""
    context = browser.new_context(viewport=viewport, accept_downloads=accept_downloads, locale=locale)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
    page.goto(url)
    page.wait_for_selector("#chat-input textarea")
    return context, page, hosts


@contextmanager
def app_page(url: str, timeout_ms: int, *, accept_downloads: bool = False) -> Iterator[Any]:
    """The app at `url` in headless chromium (wide, English locale), once its chat input is there.

    On leaving, it checks that the page asked nothing of any host but 127.0.0.1.
    """
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is required: apt-get install chromium (see .ci/run)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        context, page, hosts = open_page(browser, url, timeout_ms, accept_downloads=accept_downloads)
        yield page
        assert hosts <= LOCAL_HOSTS, f"the page contacted other hosts: {sorted(hosts)}"
        context.close()
        browser.close()
