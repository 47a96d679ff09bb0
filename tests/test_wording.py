"""Offline wording files (copilot.wording): strict rendering, variants, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.wording import Wording, WordingError


def _prompts(tmp_path: Path, text: str, lang: str = "zh") -> Path:
    folder = tmp_path / "offline" / lang
    folder.mkdir(parents=True)
    (folder / "card.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_render_nested_keys_and_variants(tmp_path: Path) -> None:
    root = _prompts(tmp_path, "heading:\n  goal: 会议目标：{{ goal }}\nnext:\n  - 先{{ a }}\n  - 再{{ a }}\n")
    words = Wording("card", "zh", root)
    assert words("heading.goal", goal="确认试点范围") == "会议目标：确认试点范围"
    assert words.variant("next", 3, a="签约") == "再签约"
    assert words.all("next", a="x") == ["先x", "再x"]
    assert words("heading.goal", goal="{{ a }}") == "会议目标：{{ a }}"  # a value is never expanded


def test_missing_variable_and_key_are_errors(tmp_path: Path) -> None:
    root = _prompts(tmp_path, "goal: '{{ goal }} {{ stage }}'\n")
    words = Wording("card", "zh", root)
    with pytest.raises(WordingError, match=r"card.yaml: goal: variable 'stage' is used but not supplied"):
        words("goal", goal="x")
    with pytest.raises(WordingError, match="key 'nope' not found"):
        words("nope")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    root = _prompts(tmp_path, "a: ok\nnext: [先{{ a }}]\n")
    with pytest.raises(WordingError, match=r"card.yaml:2: invalid YAML"):
        Wording("card", "zh", root)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(WordingError, match="wording file not found"):
        Wording("card", "en", tmp_path)
    with pytest.raises(WordingError, match="unknown language"):
        Wording("card", "fr", tmp_path)
    root = _prompts(tmp_path, "goal: [1, 2]\n")
    with pytest.raises(WordingError, match="goal: must be a text"):
        Wording("card", "zh", root)
