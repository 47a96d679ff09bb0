"""Errors of the LLM layer. None of their messages ever contains an API key."""

from __future__ import annotations


class ModelConfigError(ValueError):
    """The model settings cannot be used (no model name, no API key, bad base URL); says what to set."""


class LLMError(RuntimeError):
    """A model call failed; the message is safe to show (no key, no server text)."""

    def __init__(self, message: str, *, kind: str = "error", status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


class StreamCutError(LLMError):
    """A streamed reply stopped before the model finished: what arrived is partial."""

    def __init__(self, message: str = "the model's streamed reply was cut off before it finished") -> None:
        super().__init__(message, kind="stream_cut")
