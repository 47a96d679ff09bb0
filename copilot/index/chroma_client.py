"""The Chroma client for the configured store: embedded under NEGO_HOME/index/chroma, or a Chroma server."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlparse

from copilot.index.store_errors import IndexUnavailableError
from copilot.settings import Settings

SERVER_CONNECT_TIMEOUT_S = 5.0


def server_client(url_text: str, chroma_settings: Any) -> Any:
    """A chromadb.HttpClient for `chroma_url`, or one line saying what is wrong with the URL or the server.

    The server is first reached with a plain TCP connection and a timeout: chromadb's HTTP client
    has none, so an address that drops packets would otherwise hang `nego ui` at start.
    """
    import socket

    import chromadb

    url = urlparse(url_text.strip())
    try:
        port = url.port or (443 if url.scheme == "https" else 8000)
    except ValueError:
        port = 0
    if url.scheme not in ("http", "https") or not url.hostname or not port or url.path.strip("/"):
        shown = repr(url_text) if "@" not in url_text else "(a URL with credentials, not shown)"
        raise IndexUnavailableError(
            f"NEGO_CHROMA_URL is not a Chroma server URL: {shown} (expected http://HOST:PORT or https://HOST:PORT)"
        )
    where = f"{url.scheme}://{url.hostname}:{port}"  # never echoes credentials a URL might carry
    hint = (
        f"start it (`chroma run --path DIR --host {url.hostname} --port {port}`), fix NEGO_CHROMA_URL, "
        "or unset it to use the embedded index"
    )
    try:
        socket.create_connection((url.hostname, port), timeout=SERVER_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise IndexUnavailableError(
            f"cannot reach the Chroma server at {where} (NEGO_CHROMA_URL): {reason}; {hint}"
        ) from exc
    try:
        return chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https", settings=chroma_settings)
    except Exception as exc:  # chromadb raises ValueError or its own errors for a server it cannot use
        reason = str(exc) or "it did not answer as a Chroma server"
        raise IndexUnavailableError(
            f"the Chroma server at {where} (NEGO_CHROMA_URL) cannot be used: {reason}; {hint}"
        ) from exc


def forget_system(path: str) -> None:
    """Drop the System Chroma cached for `path` when opening it failed, so the path can be opened again.

    chromadb keeps one System per directory for the whole process, also one whose start
    failed (a corrupt chroma.sqlite3); every later PersistentClient on that path would get
    the broken one. A System other clients still use is left alone.
    """
    with contextlib.suppress(Exception):
        from chromadb.api.shared_system_client import SharedSystemClient

        if SharedSystemClient._identifier_to_refcount.get(path, 0) <= 0:
            system = SharedSystemClient._identifier_to_system.pop(path, None)
            if system is not None:
                system.stop()


def chroma_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        return server_client(settings.chroma_url, chroma_settings)
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
