"""Keep the app's API description from visitors who have not logged in.

Gradio 6 (6.31) answers GET / without a login with its login page, and embeds in
that page `window.gradio_api_info`: every endpoint (hidden ones too with
`?all_endpoints=true`), its parameters and their defaults, which are the
components' values at start-up (the settings tab's base URL and model name, for
one). /gradio_api/info, which serves the same description, does require the
login. This ASGI middleware empties that script in any HTML page sent to a
visitor without a valid login cookie; with login off, or once logged in,
responses pass through untouched.

It reads gradio's own login state (`App.tokens`, `App.cookie_id`), so it only
acts when the app has a login configured.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_API_INFO = re.compile(rb"window\.gradio_api_info\s*=\s*.*?;\s*</script>", re.DOTALL)
_EMPTY = b"window.gradio_api_info = {};</script>"


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header means no valid login
                return {}
    return {key: morsel.value for key, morsel in jar.items()}


def logged_in(scope: Scope) -> bool:
    """Whether the request carries a login cookie gradio issued (True when the app has no login)."""
    app: Any = scope.get("app")
    if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
        return True
    cookie_id = getattr(app, "cookie_id", None)
    tokens = getattr(app, "tokens", None) or {}
    cookies = _cookies(scope)
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return token is not None and token in tokens


class HideApiInfoFromStrangers:
    """ASGI middleware: no API description in an HTML page for a visitor who has not logged in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or logged_in(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if not _is_html(message):
                    await send(message)
                return
            if message["type"] != "http.response.body" or start is None or not _is_html(start):
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = _API_INFO.sub(_EMPTY, b"".join(chunks))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def _is_html(start: Message) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in start.get("headers", []))
