"""The app's and the chat's wording files: valid, and the same keys in Chinese and English."""

from __future__ import annotations

import pytest

from copilot.wording import Wording

NAMES = ("ui", "chat", "risk_rating", "card_pdf", "deal")


@pytest.mark.parametrize("name", NAMES)
def test_both_languages_have_the_same_keys(name: str) -> None:
    zh, en = Wording(name, "zh"), Wording(name, "en")
    assert set(zh.entries) == set(en.entries)
    assert all(zh.entries[k] and en.entries[k] for k in zh.entries)


def test_every_label_key_used_by_the_app_exists_in_both_languages() -> None:
    import re
    from pathlib import Path

    used: set[str] = set()
    for path in Path(__file__).resolve().parent.parent.joinpath("ui").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\"((?:app|tab|chat|deal|brief|kb|evals|settings)\.[a-z_]+)\"", text))
    used -= {"evals.runner"}  # a module name, not a label
    assert len(used) > 60
    for lang in ("zh", "en"):
        assert not [k for k in used if not Wording("ui", lang).has(k)], lang
