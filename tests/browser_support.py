"""Debian's chromium for browser tests: never `playwright install` (it downloads a browser)."""

from __future__ import annotations

from pathlib import Path

from copilot.export_pdf import FLAGS

CHROMIUM = Path("/usr/bin/chromium")

# Headless as root, and no background traffic: the one list of flags, shared with the PDF export.
CHROMIUM_FLAGS = list(FLAGS)
