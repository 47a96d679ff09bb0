"""LLM mode against the test model server (tests/openai_server.py), with answers that pass the checks.

A benchmark of LLM mode needs a server that answers every skill with a valid structured result, or
every call ends in the offline fallback and measures nothing. `DraftBook` gets those answers by
calibration: each (case, skill) is run once in LLM mode while the server answers 401, so the copilot
falls back to its offline result, i.e. exactly what a perfect model could write from the same
passages. The request's user prompt (deterministic: same deal, same retrieval) becomes the key, and
the offline result turned into the skill's draft (its fields plus the ids "C1", "C2"... of the
passages it cites) the answer. `DraftBook.respond` then serves that draft to any request, in any
order, so N concurrent calls are answered correctly.

Passage ids are read from the prompt itself ("[C3] title (doc-id)" followed by the passage's text,
matched to the passages the request retrieved, as logged by evals.recording). A call whose answer
cites a passage the prompt does not hold gets no learnt answer: its requests are answered 401 (a
fallback, counted as such) rather than with a wrong answer.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr, ValidationError

from bench._common import openai_test_server
from copilot.index.models import Hit
from copilot.llm.draft import BASE_FIELDS, draft_model
from copilot.results import Citation, SkillResult
from copilot.settings import HOSTED_CONTEXT_TOKENS, Settings
from evals.cases import SkillCase
from evals.execute import Call, Engine, call_skill

PASSAGE_LINE = re.compile(r"^\[(C\d+)\] .*\(([^()\s]+)\)$", re.MULTILINE)
WORD_CHARS = re.compile(r"\W+")
MODEL_NAME = "bench-model"


@contextmanager
def model_server() -> Iterator[Any]:
    """The test OpenAI-compatible server on 127.0.0.1 (a free port), stopped on exit."""
    server = openai_test_server().OpenAIServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def llm_settings(settings: Settings, server: Any, context_tokens: int = HOSTED_CONTEXT_TOKENS) -> Settings:
    """LLM mode against `server` as provider "custom", with a hosted model's context window by default
    (a custom endpoint's default is 8,192 tokens, which leaves passages out of the longer prompts)."""
    return settings.model_copy(
        update={
            "provider": "custom",
            "base_url": server.base_url,
            "model": MODEL_NAME,
            "api_key": SecretStr("bench"),
            "timeout_s": 60.0,
            "context_tokens": context_tokens,
        }
    )


def skill_input(case: SkillCase, skill: str) -> str:
    """The text a skill of a case is given (as evals.execute.run_skill_case does)."""
    return {"explain": case.explain, "objection": case.objection, "ask": case.question}.get(skill) or ""


def run_case_skill(engine: Engine, case: SkillCase, skill: str) -> Call:
    return call_skill(engine, skill, case.deal, skill_input(case, skill), case.horizon_months)


def prompt_key(body: dict[str, Any]) -> str | None:
    """The key of a chat request: its first user message (a retry round repeats it)."""
    messages = body.get("messages") or []
    user = next((m for m in messages if isinstance(m, dict) and m.get("role") == "user"), None)
    content = user.get("content") if user else None
    if not isinstance(content, str):
        return None
    return hashlib.sha256(content.encode()).hexdigest()


def _words(text: str) -> str:
    return WORD_CHARS.sub("", text)


def prompt_passage_ids(user: str, retrieved: dict[str, Hit]) -> dict[str, str]:
    """chunk id -> the id ("C3") the prompt gives that passage, for the passages the prompt holds.

    The prompt may leave passages out (copilot.llm.budget), so each "[C3] title (doc-id)" block is
    matched to the retrieved passage of that document whose text it starts with.
    """
    headers = list(PASSAGE_LINE.finditer(user))
    ids: dict[str, str] = {}
    for n, header in enumerate(headers):
        end = headers[n + 1].start() if n + 1 < len(headers) else len(user)
        block = _words(user[header.end() : end])
        for hit in retrieved.values():
            if hit.doc_id == header.group(2) and hit.chunk_id not in ids and block.startswith(_words(hit.text)[:40]):
                ids[hit.chunk_id] = header.group(1)
                break
    return ids


def _all_citations(result: SkillResult) -> list[Citation]:
    """The result's citations and those of its nested results."""
    out = list(result.citations)
    for name in type(result).model_fields:
        value = getattr(result, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, SkillResult):
                out += _all_citations(item)
    return out


def draft_data(result: SkillResult, ids: dict[str, str]) -> dict[str, Any]:
    """`result` as the draft the model is asked for: the skill's own fields, nested results as drafts."""
    dumped = result.model_dump(mode="json")
    data: dict[str, Any] = {}
    for name in type(result).model_fields:
        if name in BASE_FIELDS:
            continue
        value = getattr(result, name)
        if isinstance(value, SkillResult):
            data[name] = draft_data(value, ids)
        elif isinstance(value, list) and value and all(isinstance(v, SkillResult) for v in value):
            data[name] = [draft_data(v, ids) for v in value]
        else:
            data[name] = dumped[name]
    data["cited"] = [ids[c.chunk_id] for c in result.citations]
    return data


@dataclass
class Calibrated:
    """One calibration call: the time its request took to reach the server, and whether a draft was made."""

    skill: str
    to_server_s: float
    draft: bool
    problem: str | None = None
    started: float = 0.0
    """time.monotonic() when the Copilot call started (the server's arrival stamps use the same clock)."""


@dataclass
class DraftBook:
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown: int = 0
    """Requests answered 401 because no draft matched their prompt."""

    def calibrate(self, engine: Engine, server: Any, case: SkillCase, skill: str) -> Calibrated:
        """Run one (case, skill) in LLM mode against a server answering 401; learn its answer."""
        module = openai_test_server()
        server.reset()
        server.script(module.Unauthorized())
        started = time.monotonic()
        call = run_case_skill(engine, case, skill)
        requests = server.chat_requests()
        if not requests:
            raise RuntimeError(f"{case.id}/{skill}: the copilot made no model request (is it in LLM mode?)")
        to_server = requests[0].at - started
        if call.result is None:
            return Calibrated(skill, to_server, False, f"{call.error.type if call.error else 'error'}", started)
        problem = self._learn(requests[0].body, call)
        return Calibrated(skill, to_server, problem is None, problem, started)

    def _learn(self, body: dict[str, Any], call: Call) -> str | None:
        key = prompt_key(body)
        if key is None:
            return "the request has no user message"
        assert call.result is not None
        user = next(m["content"] for m in body["messages"] if m.get("role") == "user")
        ids = prompt_passage_ids(user, call.retrieved)
        missing = [c.doc_id for c in _all_citations(call.result) if c.chunk_id not in ids]
        if missing:
            return f"cites {missing[0]}, a passage the prompt left out or that could not be matched"
        try:
            data = draft_data(call.result, ids)
            draft_model(type(call.result)).model_validate(data)
        except ValidationError as exc:
            return f"no valid draft ({str(exc)[:120]})"
        self.drafts[key] = data
        return None

    def respond(self, body: dict[str, Any]) -> Any:
        """The server behaviour for one request: the learnt draft, or 401 when there is none."""
        module = openai_test_server()
        key = prompt_key(body)
        if key is None or key not in self.drafts:
            self.unknown += 1
            return module.Unauthorized()
        return module.ReplyJSON(self.drafts[key])


class RunnerProbe:
    """Notes when the copilot enters copilot.llm.runner.run_llm_skill, i.e. when retrieval and the offline
    composition are done and prompt building starts (the bench wraps the function; nothing is changed); also
    the calling thread's CPU time then (`entered_cpu`: what the composition cost, whatever the machine's load)."""

    def __init__(self) -> None:
        self.entered: float | None = None
        self.entered_cpu: float | None = None

    @contextmanager
    def installed(self) -> Iterator[RunnerProbe]:
        import copilot.llm.runner as runner

        original = runner.run_llm_skill

        def probed(*args: Any, **kwargs: Any) -> Any:
            self.entered, self.entered_cpu = time.monotonic(), time.thread_time()
            return original(*args, **kwargs)

        runner.run_llm_skill = probed  # core.py imports it from the module at call time
        try:
            yield self
        finally:
            runner.run_llm_skill = original


def answer_with(server: Any, book: DraftBook, requests: int, latency_s: float = 0.0) -> None:
    """Script the server to answer the next `requests` requests from `book`, each after `latency_s`."""
    module = openai_test_server()
    behaviour = module.Respond(book.respond)
    if latency_s > 0:
        behaviour = module.Delay(latency_s, behaviour)
    server.reset()
    server.script(*[behaviour] * requests)
