"""Test fixtures: no outbound network, NEGO_HOME in a temp dir, a shared index of the shipped corpus."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
for _name in [n for n in os.environ if n.startswith("NEGO_")]:
    del os.environ[_name]  # a developer's own settings must not leak into tests

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlockedError(OSError):
    pass


def _is_loopback(address: Any) -> bool:
    if not (isinstance(address, tuple) and address):
        return isinstance(address, (str, bytes))  # an AF_UNIX socket path is local
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise NetworkBlockedError(f"outbound network blocked in tests: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise NetworkBlockedError(f"outbound network blocked in tests: {address!r}")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost") and not _is_loopback((name,)):
        raise NetworkBlockedError(f"DNS lookup blocked in tests: {name!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture()
def nego_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "nego-home"
    monkeypatch.setenv("NEGO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The shipped corpus indexed once per test session: (settings, store, retriever)."""
    from copilot.index.indexer import index_corpus
    from copilot.index.retriever import Retriever
    from copilot.index.store import ChunkStore
    from copilot.settings import Settings

    home = tmp_path_factory.mktemp("shipped-index")
    settings = Settings(home=home)
    store = ChunkStore.open(settings)
    report = index_corpus(settings, store)
    assert report.chunks > 0
    return settings, store, Retriever(store)


@pytest.fixture(scope="session")
def kb(shipped_index: Any) -> Any:
    """A KnowledgeBase over the shipped corpus and its session index."""
    from copilot.knowledge import KnowledgeBase

    settings, store, _ = shipped_index
    return KnowledgeBase.open(settings, store)


@pytest.fixture(scope="session")
def _openai_server_session() -> Iterator[Any]:
    """One real OpenAI-compatible server (tests/openai_server.py) per session, on 127.0.0.1."""
    from openai_server import OpenAIServer

    server = OpenAIServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def openai_server(_openai_server_session: Any) -> Iterator[Any]:
    """The session's OpenAI-compatible server with an empty script and no recorded requests."""
    _openai_server_session.reset()
    yield _openai_server_session
    _openai_server_session.reset()
