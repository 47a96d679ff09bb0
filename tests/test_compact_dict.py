"""The compact jieba dictionary (copilot.text.compact_dict) answers exactly like jieba's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot import paths
from copilot.corpus.loader import load_corpus
from copilot.text.compact_dict import CompactFreq
from copilot.text.segment import _jieba, tokenize


def test_every_key_and_the_total_equal_jiebas() -> None:
    import jieba

    _jieba()  # jieba's own dictionary, loaded
    full, total = jieba.dt.FREQ, jieba.dt.total
    compact = CompactFreq.from_dict_file(Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME)
    assert len(compact) == len(full)
    assert compact.total == total
    assert [k for k, v in full.items() if compact.get(k) != v or compact[k] != v or k not in compact] == []
    for other in ("区块链溯源平台方案", "zz-not-a-word", "BP", "偂"):  # "BP": a prefix of "BP机"
        assert compact.get(other) == full.get(other)
        assert (other in compact) == (other in full)


def test_frequencies_follow_jiebas_rules(tmp_path: Path) -> None:
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("区块链 10 n\n区块 3\n偂 5\n区块链 7 n\n", encoding="utf-8")
    freq = CompactFreq.from_dict_file(dictionary)
    assert freq.get("区块链") == 7  # a repeated word: its last line's frequency
    assert freq.get("区块") == 3  # a word that is also a prefix
    assert freq.get("区") == 0  # a prefix only
    assert freq.get("链") is None and "链" not in freq
    with pytest.raises(KeyError):
        freq["链"]
    # CPython hashes a str's internal bytes: "BP" and "偂" (U+5042) share them; their lengths differ
    assert freq.get("偂") == 5 and "BP" not in freq
    assert freq.total == 25
    assert freq.freq("区") == 0 and freq.freq("链") == -1


def test_a_bad_line_names_the_file_and_line(tmp_path: Path) -> None:
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("区块链 10 n\n区块 many\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dict\.txt:2: "):
        CompactFreq.from_dict_file(dictionary)


def test_the_shipped_corpus_is_segmented_the_same_with_either_dictionary() -> None:
    paragraphs = [
        line
        for doc in load_corpus(paths.corpus_dir()).documents
        for text in doc.sections.values()
        for line in text.splitlines()
        if line.strip()
    ]
    assert len(paragraphs) > 1000
    assert [tokenize(p) for p in paragraphs] == [tokenize(p, bulk=True) for p in paragraphs]


def test_indexing_picks_the_dictionary_a_process_has(monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.index import indexer

    monkeypatch.setattr(indexer, "compact_loaded", lambda: True)  # a serving process
    assert indexer.full_dictionary(1) is False
    assert indexer.full_dictionary(indexer.BULK_DOCUMENTS + 1) is True
    monkeypatch.setattr(indexer, "compact_loaded", lambda: False)  # `nego index`
    assert indexer.full_dictionary(1) is True


def test_compact_loaded_says_whether_the_compact_dictionary_is_in_memory() -> None:
    from copilot.text import segment

    tokenize("区块链")
    assert segment.compact_loaded()
    segment._compact.cache_clear()
    assert not segment.compact_loaded()
