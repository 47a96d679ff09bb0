"""The app's and the chat's wording files: valid, and the same keys in Chinese and English."""

from __future__ import annotations

import pytest

from copilot.wording import Wording

NAMES = ("ui", "chat", "risk_rating", "card_pdf", "deal", "charts")


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
        used |= set(
            re.findall(
                r"\"((?:app|tab|chat|deal|brief|kb|evals|settings|negotiate|practice|recap|health|reading|vendor)\.[a-z_]+)\"",
                text,
            )
        )
    used -= {"evals.runner", "vendor.yaml"}  # a module name and a file name, not labels
    assert len(used) > 60
    for lang in ("zh", "en"):
        assert not [k for k in used if not Wording("ui", lang).has(k)], lang


def test_the_app_code_holds_no_doubled_or_chinese_labels() -> None:
    """Labels come from ui.yaml in one language at a time. Allowed in code: the language names, the product's
    title (shown before a language is chosen: browser tab, login), the two language sections a note is written
    with (the corpus format), and the heading a model's own source list is recognised by."""
    import io
    import re
    import tokenize
    from pathlib import Path

    han = re.compile(r"[\u3400-\u9fff]")
    allowed = {'"中文"', '"谈判助手 Negotiation Copilot"', '"谈判助手 Negotiation Copilot: please log in"'}
    allowed_starts = ('f"{front}\\n\\n## 中文', 'r"^(#{1,6})\\s*(?:来源|出处')
    found = []
    for path in sorted(Path(__file__).resolve().parent.parent.joinpath("ui").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and han.search(token.string) and token.string not in allowed:
                if token.string.startswith(allowed_starts):
                    continue
                if not token.string.startswith('"""'):
                    found.append(f"{path.name}:{token.start[0]}: {token.string[:40]}")
    assert not found, found
