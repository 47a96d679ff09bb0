"""A plain text reply from the chat model (role-play lines, a polished email): the one place these build messages.

Personal data is replaced before the call when a redactor is given, and restored in the reply.
Exceptions from the model propagate: callers fall back to their offline text.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from copilot.privacy import Redactor


def text_reply(model: Any, system: str, user: str, redactor: Redactor | None = None, max_chars: int = 4000) -> str:
    out = redactor.redact if redactor is not None else str
    reply = model.invoke([SystemMessage(content=out(system)), HumanMessage(content=out(user))])
    text = str(getattr(reply, "content", reply) or "").strip()[:max_chars]
    return redactor.restore(text) if redactor is not None else text
