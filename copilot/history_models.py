"""The conversation history's records: conversations, their messages and the feedback on replies (copilot.history)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.results import Citation, Notice

Role = Literal["user", "assistant"]
Status = Literal["partial", "interrupted", "complete"]
Rating = Literal[1, -1]


class HistoryError(RuntimeError):
    """The history cannot be read or written, or an id does not exist; the message says which."""


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Rating | None = None
    comment: str = ""


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    conversation_id: str
    role: Role
    content: str
    status: Status
    skill: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    created_at: str
    feedback: Feedback | None = None


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    owner: str
    title: str
    deal: dict[str, Any] | None = None
    created_at: str
    updated_at: str
    message_count: int = 0


class ConversationDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation: Conversation
    messages: list[Message]
