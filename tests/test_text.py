"""Offline tokens, language detection, segmentation, chunking and number matching."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from copilot.text import tokens
from copilot.text.chunking import Chunker, split_sentences
from copilot.text.lang import detect_language
from copilot.text.numbers import NumberBank, find_dates, find_figures
from copilot.text.segment import stem, tokenize


def test_encodings_load_offline_and_match_tiktoken(tmp_path: Path) -> None:
    import tiktoken

    tokens.ensure_tiktoken_cache(tmp_path)
    text = "沃尔玛芒果溯源从几天缩短到几秒？ Walmart's mango trace took 2.2 seconds.\n\n  x"
    for name in ("cl100k_base", "o200k_base"):
        assert tokens.get_encoding(name).encode(text) == tiktoken.get_encoding(name).encode(text)


def test_tampered_bpe_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_packed", lambda name: gzip.compress(b"dGFtcGVyZWQ= 0\n"))
    with pytest.raises(tokens.TokenizerDataError, match="sha256"):
        tokens._bpe_bytes("cl100k_base")


def test_the_bpe_file_is_read_without_importing_its_package() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from copilot.text import tokens; tokens._bpe_bytes('cl100k_base'); "
        "print('bpe_openai' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"  # importing it decodes every encoding it knows (~2 s)


def test_unknown_encoding_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported encoding"):
        tokens.get_encoding("p50k_base")


def test_language_detection() -> None:
    assert detect_language("沃尔玛芒果溯源从几天缩短到几秒？") == "zh"
    assert detect_language("Which law says personal data must be deletable?") == "en"
    assert detect_language("PBFT 共识需要多长时间确认") == "zh"
    assert detect_language("12345 !!!", default="zh") == "zh"


def test_tokenize_mixed_language() -> None:
    got = tokenize("沃尔玛芒果溯源 Which law says personal data must be deleted? PBFT共识 2.2秒")
    assert {"沃尔玛", "芒果", "溯源", "law", "personal", "delet", "pbft", "共识", "2.2"} <= set(got)
    assert "which" not in got and "的" not in got


def test_stem_is_light_and_stable() -> None:
    assert stem("deletion") == stem("deleted") == stem("deletable") == "delet"
    assert stem("data") == "data"
    assert stem("2019") == "2019"


def test_sentences_split_on_chinese_and_english_punctuation() -> None:
    text = "深圳于2018年开出首张发票。效果如何？很好！The trace took 2.2 seconds. Really? Yes.\n- item"
    assert split_sentences(text) == [
        "深圳于2018年开出首张发票。",
        "效果如何？",
        "很好！",
        "The trace took 2.2 seconds.",
        "Really?",
        "Yes.",
        "- item",
    ]


def test_chunks_respect_the_token_bound_and_headings() -> None:
    chunker = Chunker(max_tokens=60)
    zh = (
        "### 业务痛点\n"
        + "企业报销流程长达数周，财务人员需要逐张核对发票真伪。" * 8
        + "\n\n### 建设内容\n税务局与腾讯合作建设联盟链。"
    )
    pieces = chunker.chunk(zh)
    assert len(pieces) > 2
    assert all(p.tokens <= 60 for p in pieces)
    assert pieces[0].heading == "业务痛点" and pieces[-1].heading == "建设内容"
    assert pieces[0].text.startswith("### 业务痛点\n")
    # Chinese sentences are joined without spaces and nothing is lost.
    joined = "".join(p.text for p in pieces).replace("\n", "").replace(" ", "")
    assert joined == zh.replace("\n", "").replace(" ", "")


def test_small_sections_are_packed_into_one_chunk() -> None:
    chunker = Chunker(max_tokens=200)
    text = "### A\nOne short paragraph.\n\n### B\nAnother short paragraph."
    (piece,) = chunker.chunk(text)
    assert piece.heading == "A" and "### B" in piece.text


def test_sentence_longer_than_the_bound_is_cut_by_tokens() -> None:
    chunker = Chunker(max_tokens=20)
    pieces = chunker.chunk("区块链" * 100)
    assert len(pieces) > 1 and all(p.tokens <= 20 for p in pieces)


def test_figures_are_normalised_across_languages() -> None:
    bank = NumberBank(["By 18 Mar 2019 over RMB 1.3bn; 5.91m invoices, ~44k/day; A$245–255m; Art. 47(2); 1,599 types"])
    zh = "2019年3月18日开票超过13亿元，591万张，约4.4万张/天，2.45亿至2.55亿澳元，第47条，1599种"
    assert bank.unknown(zh) == []
    assert bank.unknown("2019年3月19日，12亿元") == ["2019年3月19日", "12亿"]


def test_dates_and_list_markers() -> None:
    assert [(d.year, d.month, d.day) for d in find_dates("15 Aug–23 Sept 2022; June 2018; 2018年8月10日")] == [
        (2022, 8, 15),
        (2022, 9, 23),
        (2018, 6, None),
        (2018, 8, 10),
    ]
    assert [f.text for f in find_figures("1. first\n2. second has 33% and SM2")] == ["33"]
