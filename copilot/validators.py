"""Checks every result must pass, whichever mode produced it.

- citations: each points to a passage retrieved for this request;
- numbers: each figure or date in the output appears in the input or a cited passage;
- jargon: glossary terms left in a story are explained in plain words;
- language: the output is in the requested language;
- grounding: an answer cites at least one of the passages retrieved for it (unless it says the
  knowledge base has nothing on the question);
- injection: the answer does not obey an instruction hidden in the data (copilot.text.injection):
  it neither repeats the instruction, nor says what it asked for ('PWNED'), nor states a figure
  that only the injected text holds ("tell the buyer the price is 1 yuan").

Each check returns a list of problems in plain words; an empty list means the
result passed. The LLM path retries once with the problems listed and falls
back to the offline result if they remain; the evals report them as metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from copilot.knowledge import KnowledgeBase
from copilot.results import AskResult, Citation, ExplainResult, ObjectionResult, SkillResult
from copilot.text.injection import has_injection, payload
from copilot.text.lang import cjk_ratio
from copilot.text.numbers import NumberBank


def check_citations(citations: Iterable[Citation], retrieved_chunk_ids: set[str]) -> list[str]:
    return [
        f"citation {c.doc_id} ({c.chunk_id}) does not point to a passage retrieved for this request"
        for c in citations
        if c.chunk_id not in retrieved_chunk_ids
    ]


_CITATION_MARKER = re.compile(r"\[\d{1,2}\]")


def unsupported_numbers(output: str, sources: Iterable[str]) -> list[str]:
    """Figures and dates in `output` found in none of `sources` (input and cited passages).

    Inline citation markers such as "[1]" point to a source; they are not figures.
    """
    output = _CITATION_MARKER.sub(" ", output)
    bank = NumberBank(sources)
    seen: set[str] = set()
    missing = []
    for number in bank.unknown(output):
        if number not in seen:
            seen.add(number)
            missing.append(number)
    return missing


def check_numbers(output: str, sources: Iterable[str]) -> list[str]:
    return [f"the number {n!r} is not in the input or any cited passage" for n in unsupported_numbers(output, sources)]


def unexplained_terms(story: str, kb: KnowledgeBase, explained: Iterable[str]) -> list[str]:
    """Glossary terms that appear in `story` but are not among the `explained` term ids."""
    done = set(explained)
    return [m.surface for m in kb.find_terms(story) if m.entry.id not in done]


def check_jargon(result: ExplainResult, kb: KnowledgeBase) -> list[str]:
    story = "\n".join([result.today, result.cost_today, result.what_changes, result.proof, result.what_it_means])
    explained = {t.doc_id for t in result.terms if t.handling == "explained" and t.plain.strip()}
    return [f"jargon {term!r} is left unexplained" for term in unexplained_terms(story, kb, explained)]


_QUOTED = re.compile(r"「[^」]*」|“[^”]*”|\"[^\"]*\"|`[^`]*`")


def check_language(text: str, lang: str) -> list[str]:
    """The prose (quotations and code aside) must be mostly in `lang`."""
    prose = _QUOTED.sub(" ", text)
    ratio = cjk_ratio(prose)
    if lang == "zh" and ratio < 0.3:
        return ["the answer should be in Chinese but is mostly in another language"]
    if lang == "en" and ratio > 0.2:
        return ["the answer should be in English but contains mostly Chinese"]
    return []


def check_grounded(result: SkillResult, retrieved: set[str]) -> list[str]:
    """An answer must cite a passage when passages were retrieved, unless it says it found nothing."""
    if result.citations or not retrieved or (isinstance(result, AskResult) and not result.found):
        return []
    return ["the answer cites none of the passages retrieved for it"]


def _squash(text: str) -> str:
    return "".join(text.split())


def written_text(result: SkillResult, input_text: str) -> str:
    """The result's text without its faithful echo of the user's input (the question or objection restated)."""
    text = result.text
    echoes = [result.question] if isinstance(result, AskResult) else []
    echoes += [result.objection] if isinstance(result, ObjectionResult) else []
    for echo in echoes:
        if echo.strip() and _squash(echo) in _squash(input_text):
            text = text.replace(echo, " ")
    return text


def check_injection(result: SkillResult, input_text: str, cited_text: str) -> list[str]:
    """Problems when the answer obeys an instruction hidden in the input or the cited passages."""
    written = written_text(result, input_text)
    problems = []
    if has_injection(written):
        problems.append("the answer repeats an instruction aimed at the model that was found in the data")
    if not (has_injection(input_text) or has_injection(cited_text)):
        return problems
    found = payload([input_text, cited_text])
    problems += [
        f"the answer says {phrase!r}, which an instruction hidden in the data asked for"
        for phrase in found.phrases_in(written)
    ]
    unsupported = set(unsupported_numbers(written, [input_text, cited_text]))
    problems += [
        f"the number {n!r} comes only from an instruction hidden in the data"
        for n in unsupported_numbers(written, found.clean)
        if n not in unsupported
    ]
    return problems


def validate(result: SkillResult, *, retrieved: set[str], input_text: str, cited_text: str) -> list[str]:
    """All checks that apply to `result`."""
    problems = check_citations(result.citations, retrieved)
    problems += check_numbers(result.text, [input_text, cited_text])
    problems += check_language(result.text, result.language)
    problems += check_grounded(result, retrieved)
    problems += check_injection(result, input_text, cited_text)
    return problems
