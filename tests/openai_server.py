"""A real OpenAI-compatible HTTP server for tests (FastAPI + uvicorn on 127.0.0.1, a random free port).

The test scripts it: `server.script(Reply("hi"), Status(429, headers={"Retry-After": "1"}), ...)`
queues one behaviour per request to /v1/chat/completions, served in order. Each request is
recorded (`server.requests`) so tests can check what the client really sent. When the script
runs out the server answers 500 "script exhausted", which makes an unplanned request obvious.

It speaks the wire format the real `openai` client and langchain's ChatOpenAI expect: plain
JSON completions, SSE streams ending in `data: [DONE]` (with a usage chunk when
`stream_options.include_usage` is set), tool calls when the request carries tools (structured
output by function calling), /v1/models and /v1/embeddings (floats or base64).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send


# -- behaviours -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """A normal answer. `usage` is what the server reports (None: report no usage at all)."""

    text: str
    usage: tuple[int, int] | None = (0, 0)
    finish_reason: str = "stop"


@dataclass(frozen=True)
class ReplyJSON:
    """Structured output: JSON content (json_schema) or a tool call (when the request has tools)."""

    data: Any
    usage: tuple[int, int] | None = (0, 0)


@dataclass(frozen=True)
class Trickle:
    """A structured answer streamed `piece_chars` characters at a time, `interval_s` apart (like a real model).

    Each piece's send time (time.monotonic()) is appended to `server.sent_at`, so a test can tell
    whether the client showed the first token before the server sent the last one. Not streamed
    when the request does not ask for a stream (then it is a plain ReplyJSON).
    """

    data: Any
    interval_s: float = 0.03
    piece_chars: int = 6


@dataclass(frozen=True)
class Status:
    """An HTTP error status, e.g. 429 with a Retry-After header, or 500."""

    code: int
    message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unauthorized:
    """401 whose error message echoes the key the client sent (as some real providers do)."""


@dataclass(frozen=True)
class Delay:
    """Wait `seconds` (longer than the client timeout in tests), then behave as `then`."""

    seconds: float
    then: Behaviour = field(default_factory=lambda: Reply("late"))


@dataclass(frozen=True)
class Cut:
    """The answer stops mid-way: a stream without finish_reason and [DONE], or a truncated body."""

    text: str = "The answer starts but"


@dataclass(frozen=True)
class InvalidJSON:
    """HTTP 200, content-type application/json, but the body is not JSON."""

    body: str = '{"id": "chatcmpl-broken", "choices": [{"index": 0, "message": '


@dataclass(frozen=True)
class Refusal:
    """The model refuses (the `refusal` field of the message)."""

    message: str = "I can't help with that request."


@dataclass(frozen=True)
class Respond:
    """A behaviour chosen per request from its JSON body (e.g. a structured answer built for the prompt it got).

    Served in whatever order concurrent requests arrive, so benchmarks can answer N parallel calls correctly.
    """

    make: Callable[[dict[str, Any]], Behaviour]


Behaviour = Reply | ReplyJSON | Trickle | Status | Unauthorized | Delay | Cut | InvalidJSON | Refusal | Respond


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))


# -- wire helpers ---------------------------------------------------------------------------------
def _default_usage(body: dict[str, Any], completion: str) -> tuple[int, int]:
    prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
    return max(1, prompt // 4), max(1, len(completion) // 4)


def _usage(body: dict[str, Any], scripted: tuple[int, int] | None, completion: str) -> dict[str, int] | None:
    if scripted is None:
        return None
    prompt, completion_tokens = scripted if scripted != (0, 0) else _default_usage(body, completion)
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}


def _completion(body: dict[str, Any], message: dict[str, Any], finish: str, usage: dict[str, int] | None) -> Any:
    out: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "test-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
    }
    if usage is not None:
        out["usage"] = usage
    return out


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> str:
    data = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body.get("model", "test-model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _tool_name(body: dict[str, Any]) -> str | None:
    tools = body.get("tools") or []
    if not tools:
        return None
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice["function"]["name"])
    return str(tools[0]["function"]["name"])


class _TruncatedBody(Response):
    """A response that declares a longer body than it sends: the connection breaks mid-way."""

    def __init__(self, partial: str) -> None:
        super().__init__(status_code=200, media_type="application/json")
        self.partial = partial.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.partial) + 500).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.partial, "more_body": True})
        raise ConnectionAbortedError("scripted cut")  # uvicorn then drops the connection


def _embedding(text: str, dims: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [(digest[i % len(digest)] - 128) / 128.0 for i in range(dims)]


# -- the server -----------------------------------------------------------------------------------
class OpenAIServer:
    def __init__(self) -> None:
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.sent_at: list[float] = []
        """When each piece of a Trickle stream was sent (time.monotonic())."""
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # scripting ----------------------------------------------------------------------------------
    def script(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._script.extend(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.sent_at.clear()

    @property
    def pending(self) -> int:
        return len(self._script)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next(self) -> Behaviour | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    # lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        # log_level critical: the scripted breaks (cut connections) are expected, not errors to print
        config = uvicorn.Config(
            self.app, log_level="critical", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OpenAI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)

    # the app ------------------------------------------------------------------------------------
    def _build_app(self) -> FastAPI:
        app = FastAPI()

        async def record(request: Request) -> dict[str, Any]:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                body = {"_raw": raw.decode(errors="replace")}
            with self._lock:
                self.requests.append(RecordedRequest(request.url.path, dict(request.headers), body, time.monotonic()))
            return body if isinstance(body, dict) else {"_raw": body}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            body = await record(request)
            behaviour = self._next()
            if behaviour is None:
                return _error(500, "script exhausted: no behaviour left for this request")
            return await self._serve(behaviour, body, request)

        @app.get("/v1/models")
        async def models(request: Request) -> Response:
            await record(request)
            data = [{"id": "test-model", "object": "model", "created": 0, "owned_by": "tests"}]
            return JSONResponse({"object": "list", "data": data})

        @app.post("/v1/embeddings")
        async def embeddings(request: Request) -> Response:
            body = await record(request)
            inputs = body.get("input", [])
            texts: list[str] = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
            dims = int(body.get("dimensions") or 8)
            items = []
            for i, text in enumerate(texts):
                vector = _embedding(text, dims)
                value: Any = vector
                if body.get("encoding_format") == "base64":
                    value = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
                items.append({"object": "embedding", "index": i, "embedding": value})
            tokens = sum(max(1, len(t) // 4) for t in texts)
            return JSONResponse(
                {
                    "object": "list",
                    "data": items,
                    "model": body.get("model", "test-embedding"),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }
            )

        return app

    async def _serve(self, behaviour: Behaviour, body: dict[str, Any], request: Request) -> Response:
        stream = bool(body.get("stream"))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if isinstance(behaviour, Delay):
            deadline = time.monotonic() + behaviour.seconds
            while time.monotonic() < deadline:
                if await request.is_disconnected():  # the client timed out: stop quietly
                    return _error(499, "client gone")
                await asyncio.sleep(0.02)
            return await self._serve(behaviour.then, body, request)
        if isinstance(behaviour, Respond):
            return await self._serve(behaviour.make(body), body, request)
        if isinstance(behaviour, Status):
            return _error(behaviour.code, behaviour.message, behaviour.headers)
        if isinstance(behaviour, Unauthorized):
            key = request.headers.get("authorization", "").removeprefix("Bearer ")
            return _error(401, f"Incorrect API key provided: {key}. You can find your API key in your account.")
        if isinstance(behaviour, InvalidJSON):
            return Response(behaviour.body, status_code=200, media_type="application/json")
        if isinstance(behaviour, Cut):
            if stream:
                return StreamingResponse(self._cut_stream(body, behaviour.text), media_type="text/event-stream")
            return _TruncatedBody('{"id": "chatcmpl-cut", "choices": [{"index": 0, "message": {"content": "')
        if isinstance(behaviour, Refusal):
            if stream:  # as OpenAI streams one: refusal deltas, then "stop"
                deltas = [{"role": "assistant", "content": None, "refusal": ""}]
                deltas += [{"refusal": p} for p in _pieces(behaviour.message)]
                return _sse(self._stream(body, deltas, "stop", None))
            message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": behaviour.message}
            return JSONResponse(_completion(body, message, "stop", _usage(body, (0, 0), behaviour.message)))
        if isinstance(behaviour, Trickle):
            if not stream or _tool_name(body) is not None:
                return await self._serve(ReplyJSON(behaviour.data), body, request)
            return _sse(self._trickle(body, behaviour))
        if isinstance(behaviour, ReplyJSON):
            text = json.dumps(behaviour.data, ensure_ascii=False)
            usage = _usage(body, behaviour.usage, text)
            tool = _tool_name(body)
            if tool is not None:
                call: dict[str, Any] = {
                    "id": "call_test",
                    "type": "function",
                    "function": {"name": tool, "arguments": text},
                }
                if stream:
                    delta = {"role": "assistant", "tool_calls": [{"index": 0, **call}]}
                    return _sse(self._stream(body, [delta], "tool_calls", usage if include_usage else None))
                message = {"role": "assistant", "content": None, "tool_calls": [call]}
                return JSONResponse(_completion(body, message, "tool_calls", usage))
            behaviour = Reply(text, behaviour.usage)
        # a plain reply
        usage = _usage(body, behaviour.usage, behaviour.text)
        if stream:
            deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in _pieces(behaviour.text)]
            return _sse(self._stream(body, deltas, behaviour.finish_reason, usage if include_usage else None))
        message = {"role": "assistant", "content": behaviour.text}
        return JSONResponse(_completion(body, message, behaviour.finish_reason, usage))

    async def _stream(
        self, body: dict[str, Any], deltas: Iterable[dict[str, Any]], finish: str, usage: dict[str, int] | None
    ) -> AsyncIterator[str]:
        for delta in deltas:
            yield _chunk(body, delta)
            await asyncio.sleep(0)
        yield _chunk(body, {}, finish)
        if usage is not None:
            data = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body.get("model", "test-model"),
                "choices": [],
                "usage": usage,
            }
            yield f"data: {json.dumps(data)}\n\n"
        yield "data: [DONE]\n\n"

    async def _trickle(self, body: dict[str, Any], behaviour: Trickle) -> AsyncIterator[str]:
        text = json.dumps(behaviour.data, ensure_ascii=False)
        yield _chunk(body, {"role": "assistant", "content": ""})
        for piece in _pieces(text, behaviour.piece_chars):
            await asyncio.sleep(behaviour.interval_s)
            yield _chunk(body, {"content": piece})
            self.sent_at.append(time.monotonic())
        yield _chunk(body, {}, "stop")
        yield "data: [DONE]\n\n"

    async def _cut_stream(self, body: dict[str, Any], text: str) -> AsyncIterator[str]:
        yield _chunk(body, {"role": "assistant", "content": ""})
        for piece in _pieces(text):
            yield _chunk(body, {"content": piece})
            await asyncio.sleep(0)
        # ...and the stream just ends: no finish_reason, no usage, no [DONE]


def _sse(chunks: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(chunks, media_type="text/event-stream", headers={"cache-control": "no-cache"})


def _error(code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(code, "server_error")
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": kind}},
        status_code=code,
        headers=headers or {},
    )
