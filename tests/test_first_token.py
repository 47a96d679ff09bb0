"""What happens before a model's first token is asked for (issue 16): each piece done once, the same results.

The fit's questions are answered once a call (the model's task input is the composed fit's decision), the
dense ranker searches the vectors held in memory (the same passages as Chroma's index), and the chain-type
line filter answers a sentence with one scan and remembers it (the same answers as testing each line), and
the warm-up rehearsal prepares what every deal shares (every objection's and risk entry's texts embedded).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from copilot.core import Copilot
from copilot.deal import deal_from_data
from copilot.index.dense import nearest, stacked
from copilot.index.models import SearchFilters
from copilot.index.store import ChunkStore
from copilot.knowledge import KnowledgeBase
from copilot.llm.fake import ScriptedChatModel
from copilot.reading.chains import LineMatcher, _norm, contradicting_lines
from copilot.rehearsal import rehearse
from copilot.skills import fit as fit_module
from copilot.skills.risks import risk_query
from copilot.text.chunking import split_sentences

DEAL = {
    "customer": "Harbour Fresh Co-op",
    "scenario": "traceability",
    "language": "en",
    "pains": ["Growers, packers and carriers each keep their own records; a recall takes 3 days"],
    "goals": ["Trace a lot in under 2 hours"],
}


def test_nearest_is_the_exact_top_n_among_the_allowed_rows() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(300, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix[5] = matrix[9]  # a tie: the lower row first
    vector = matrix[9] + 0.01
    mask = rng.random(300) < 0.6
    mask[[5, 9]] = True
    got = nearest(matrix, mask, vector, 20)
    scores = matrix @ vector
    expected = sorted((i for i in range(300) if mask[i]), key=lambda i: (-scores[i], i))[:20]
    assert [i for i, _ in got] == expected and got[0][0] == 5 and got[1][0] == 9
    assert [s for _, s in got] == pytest.approx([float(scores[i]) for i in expected])
    assert nearest(matrix, np.zeros(300, dtype=bool), vector, 20) == []
    assert len(nearest(matrix, mask, vector, 10_000)) == int(mask.sum())
    assert stacked({"a": matrix[0]}, ["a", "b"]) is None and stacked({}, []) is None


def test_dense_ranking_in_memory_finds_what_chromas_index_finds(kb: KnowledgeBase) -> None:
    retriever = kb.retriever
    retriever.load_vectors()
    matrix = retriever._matrix
    assert matrix is not None and matrix.shape[0] == len(retriever.rows)
    queries = [
        ("Who pays for the consortium platform after the pilot?", SearchFilters()),
        ("联盟链节点由谁来运维", SearchFilters(scenario="traceability")),
        ("recall of a lot of mangoes", SearchFilters(type="case")),
        ("供应链金融 应收账款 拆分流转", SearchFilters(region="cn")),
    ]
    for query, filters in queries:
        mask = retriever._mask(filters)
        retriever._local.query_vector = None
        in_memory = retriever._dense(query, 50, mask, filters.where())
        try:
            retriever._matrix = None
            by_chroma = retriever._dense(query, 50, mask, filters.where())
        finally:
            retriever._matrix = matrix
        # Chroma's index is approximate (its graph is built at random): the same leaders, nearly the same 50
        assert in_memory and [s.index for s in in_memory[:10]] == [s.index for s in by_chroma[:10]], query
        assert len({s.index for s in in_memory} & {s.index for s in by_chroma}) >= 0.9 * len(by_chroma), query
        chroma_scores = {s.index: s.score for s in by_chroma}
        assert all(
            s.score == pytest.approx(chroma_scores[s.index], abs=1e-5) for s in in_memory if s.index in chroma_scores
        )
        assert all(mask[s.index] for s in in_memory)


@pytest.mark.parametrize(("chain", "lang"), [("consortium", "zh"), ("public", "en"), ("permissioned", "en")])
def test_line_matcher_answers_as_testing_every_line(kb: KnowledgeBase, chain: str, lang: str) -> None:
    lines = contradicting_lines(kb.glossary, kb.playbooks.values(), chain, lang)
    matcher = LineMatcher(lines)
    assert matcher.pieces
    other = "consortium" if chain != "consortium" else "public"
    sentences = [
        s
        for line in contradicting_lines(kb.glossary, kb.playbooks.values(), other, lang)
        for s in split_sentences(line)
    ]
    sentences += [s for line in lines for s in split_sentences(line)]
    sentences += [f"Opening. {s} And more." for s in sentences[:40]] + [s[: len(s) // 2] for s in sentences[:40]]

    def plain(sentence: str) -> bool:
        norm = _norm(sentence)
        return len(norm) >= 10 and any(p in norm or norm in p for p in matcher.pieces)

    answers = [matcher.copied(s) for s in sentences]
    assert answers == [plain(s) for s in sentences]
    assert any(answers) and not all(answers)
    assert [matcher.copied(s) for s in sentences] == answers  # remembered answers are the same


def test_the_fit_questions_are_answered_once_per_llm_call(
    kb: KnowledgeBase, shipped_index: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    answer = fit_module.answer_questions

    def counted(*args: Any) -> Any:
        calls.append("answered")
        return answer(*args)

    monkeypatch.setattr(fit_module, "answer_questions", counted)
    settings = shipped_index[0].model_copy(update={"max_retries": 0})
    model = ScriptedChatModel(script=[{"verdict": "fit"}, {"verdict": "fit"}])  # invalid drafts: offline shown
    copilot = Copilot(settings, kb, model=model)
    deal = deal_from_data(DEAL)
    fit = copilot.fit(deal)
    assert len(calls) == 1 and fit.questions
    prompt = model.prompts[0][-1].content
    assert f"verdict: {fit.verdict} (decided" in prompt and f"architecture: {fit.architecture}" in prompt
    assert all(f"- {q.key}: {q.answer}" in prompt for q in fit.questions)
    calls.clear()
    brief = copilot.brief(deal)
    assert len(calls) == 1 and f"verdict: {brief.fit.verdict} (decided" in model.prompts[-1][-1].content


def test_the_rehearsal_prepares_what_every_deal_shares(shipped_index: Any) -> None:
    settings, _, _ = shipped_index
    kb = KnowledgeBase.open(settings, ChunkStore.open(settings))  # an encoder of its own: an empty text cache
    embedder: Any = kb.retriever.store.embedder
    assert rehearse(Copilot(settings, kb), ["trade_finance"], ["en"]) == 1
    assert all(risk_query(entry, "en") in embedder._cache for entry in kb.risks)
    objections = [o.objection.en for o in kb.playbook("trade_finance").objections]
    assert len(objections) > 3 and all(text in embedder._cache for text in objections)  # not only the brief's 3
    assert {("consortium", "en"), ("public", "en"), ("permissioned", "en")} <= set(kb._line_matchers)
