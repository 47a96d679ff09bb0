"""`nego ui --auth`: bound to 127.0.0.1 by default, and without a login the app gives nothing away.

tests/test_ui_client.py already checks that `nego ui` with NEGO_AUTH refuses gradio_client and
GET /config without credentials. Here the app runs as `nego ui --port N --auth user:password` (no
--host) on a private copy of the shipped index, and:

- the listening socket of that process is on 127.0.0.1 only (read from /proc, not from the flag);
- without credentials, gradio_client cannot connect (nor with a wrong password), and plain HTTP to
  every data route is refused with 401/403: /config, /gradio_api/info (and ?all_endpoints),
  openapi.json, queue/join and queue/data for /chat, /gradio_api/call/chat and its SSE stream (for an
  event a logged-in user started), /run and /api, the file routes for an export and a brief the app
  produced, uploads, deep links; the pages that must answer (the login page at /) carry no data:
  no API description (ui/guard.py), no conversation, no file;
- with credentials (gradio_client auth=, an httpx session logged in through /login) the same calls
  work and return the data.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_support import clone_shipped_index, free_port, update_value

pytestmark = pytest.mark.slow

USER = "rep"
PASSWORD = "pw-" + secrets.token_hex(8)
CANARY = "CANARY" + secrets.token_hex(6).upper()
MESSAGE = f"{CANARY} 沃尔玛芒果溯源从几天缩短到几秒？"
DEAL = ["", "", "traceability", "cn", "auto", "", "", "", "", "", "", "discovery", ""]
"""The deal panel's thirteen inputs (the last: other constraints), in the order /chat and /brief take them."""


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    root: Path


@dataclass
class Produced:
    """What a logged-in user made: a conversation, its export, a brief's files, an event id, /chat's fn_index."""

    conversation: str
    export_url: str
    brief_urls: list[str]
    event_id: str
    fn_index: int


@pytest.fixture(scope="module")
def served(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("ui-auth")
    clone_shipped_index(shipped_index, root)
    for name in ("tmp", "gradio"):
        (root / name).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(
        NEGO_HOME=str(root / "home"),
        NEGO_CORPUS_DIR=str(root / "corpus"),
        TMPDIR=str(root / "tmp"),
        GRADIO_TEMP_DIR=str(root / "gradio"),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
    )
    port = free_port()
    nego = Path(sys.executable).with_name("nego")
    with (root / "ui.stdout").open("wb") as out, (root / "ui.stderr").open("wb") as err:
        process = subprocess.Popen(
            [str(nego), "ui", "--port", str(port), "--auth", f"{USER}:{PASSWORD}"], env=env, stdout=out, stderr=err
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            assert process.poll() is None, (root / "ui.stderr").read_text()
            yield Served(url, process, root)
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert "warning" not in (root / "ui.stderr").read_text().lower()  # 127.0.0.1 with login: nothing to warn about


@contextmanager
def logged_in(served: Served) -> Iterator[httpx.Client]:
    """An httpx session holding the login cookie gradio sets on POST /login."""
    with httpx.Client(base_url=served.url, timeout=60) as session:
        response = session.post("login", data={"username": USER, "password": PASSWORD})
        assert response.status_code == 200 and session.cookies, response.text
        yield session


def chat_inputs(message: str) -> list[Any]:
    return [message, None, *DEAL]


@pytest.fixture(scope="module")
def produced(served: Served) -> Produced:
    from gradio_client import Client

    client = Client(served.url, verbose=False, auth=(USER, PASSWORD), download_files=False)
    out = client.predict(*chat_inputs(MESSAGE), api_name="/chat")
    messages, conversation = out[0], update_value(out[2])
    assert CANARY in json.dumps(messages, ensure_ascii=False) and conversation
    exported, _ = client.predict(conversation_id=conversation, api_name="/export_conversation")
    brief = client.predict(*DEAL[:6], "出了问题追溯要好几天", *DEAL[7:], 12, api_name="/brief")
    # the card, rep notes, appendices and two charts come first, then the md / docx / json downloads
    brief_urls = [update_value(out)["url"] for out in brief[5:8]]
    with logged_in(served) as session:
        config = session.get("config").json()
        fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")
        event = session.post("gradio_api/call/chat", json={"data": chat_inputs("你好")}).json()
        session.get(f"gradio_api/call/chat/{event['event_id']}")  # let it finish
    return Produced(conversation, exported["url"], brief_urls, event["event_id"], fn_index)


# -- binding --------------------------------------------------------------------------------------
def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket process `pid` listens on, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address, port = local.split(":")
            raw = bytes.fromhex(address)
            if width == 8:
                ip = ".".join(str(b) for b in raw[::-1])
            else:
                words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
                ip = ":".join(b"".join(words).hex()[i : i + 4] for i in range(0, 32, 4))
            found.append((ip, int(port, 16)))
    return found


def test_default_binding_is_loopback_only(served: Served) -> None:
    port = int(served.url.rstrip("/").rsplit(":", 1)[1])
    sockets = listening_addresses(served.process.pid)
    assert (("127.0.0.1", port)) in sockets, sockets
    assert all(ip == "127.0.0.1" for ip, _ in sockets), f"the app also listens on {sockets}"


# -- without a login ------------------------------------------------------------------------------
def test_gradio_client_without_login_is_refused(served: Served) -> None:
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types on 401
        Client(served.url, verbose=False, download_files=False)
    with pytest.raises(Exception):  # noqa: B017
        Client(served.url, verbose=False, auth=(USER, "wrong-password"), download_files=False)


def refused_requests(produced: Produced) -> list[tuple[str, str, dict[str, Any]]]:
    session = "s" + secrets.token_hex(5)
    join = {"data": chat_inputs("hi"), "fn_index": produced.fn_index, "session_hash": session, "event_data": None}
    export_path = produced.export_url.split("file=", 1)[1]
    return [
        ("GET", "config", {}),
        ("GET", "config/", {}),
        ("GET", "gradio_api/info", {}),
        ("GET", "gradio_api/info?all_endpoints=true", {}),
        ("GET", "gradio_api/openapi.json", {}),
        ("POST", "gradio_api/queue/join", {"json": join}),
        ("GET", f"gradio_api/queue/data?session_hash={session}", {}),
        ("POST", "gradio_api/call/chat", {"json": {"data": chat_inputs("hi")}}),
        ("GET", f"gradio_api/call/chat/{produced.event_id}", {}),
        ("POST", "gradio_api/run/chat", {"json": {"data": chat_inputs("hi")}}),
        ("POST", "gradio_api/api/chat", {"json": {"data": chat_inputs("hi")}}),
        ("GET", produced.export_url, {}),
        *[("GET", url, {}) for url in produced.brief_urls],
        ("HEAD", produced.export_url, {}),
        ("GET", f"gradio_api/file/{export_path}", {}),
        ("POST", "gradio_api/upload", {"files": {"files": ("deal.yaml", b"customer: x\n", "text/yaml")}}),
        ("GET", "gradio_api/upload_progress?upload_id=x", {}),
        ("GET", f"gradio_api/deep_link?session_hash={session}", {}),
        ("GET", "monitoring", {}),
    ]


def test_plain_http_without_login_is_refused(served: Served, produced: Produced) -> None:
    refused = []
    with httpx.Client(base_url=served.url, timeout=30) as stranger:
        for method, path, kwargs in refused_requests(produced):
            response = stranger.request(method, path, **kwargs)
            body = response.text
            if response.status_code not in (401, 403) or CANARY in body or "brief" in body.lower():
                refused.append(f"{method} {path}: HTTP {response.status_code} {body[:200]!r}")
    assert refused == [], "served without a login:\n" + "\n".join(refused)


@pytest.mark.parametrize(
    "path", ["", "?all_endpoints=true", "?page=&deep_link=x", "gradio_api/token", "gradio_api/user"]
)
def test_what_answers_without_login_carries_no_data(served: Served, produced: Produced, path: str) -> None:
    response = httpx.get(served.url + path, timeout=30)
    body = response.text
    assert response.status_code in (200, 401, 403)
    for secret in (CANARY, produced.conversation, "named_endpoints", "conversation_id", '"/chat"', "api_name"):
        assert secret not in body, f"GET /{path} without login shows {secret!r}"
    if path.startswith("gradio_api/"):
        assert json.loads(body) in (None, {"token": None, "user": None})
    else:
        assert '"auth_required":true' in body and "window.gradio_api_info = {};" in body


# -- with a login ---------------------------------------------------------------------------------
def test_with_login_the_same_calls_work(served: Served, produced: Produced) -> None:
    with logged_in(served) as session:
        page = session.get("").text
        assert "named_endpoints" in page and '"auth_required"' not in page  # the app and its API page
        assert session.get("config").json()["dependencies"]
        assert "/chat" in session.get("gradio_api/info").json()["named_endpoints"]
        assert CANARY in session.get(produced.export_url).text
        assert all(session.get(url).status_code == 200 for url in produced.brief_urls)

        event = session.post("gradio_api/call/chat", json={"data": chat_inputs(f"{CANARY} TradeLens?")}).json()
        stream = session.get(f"gradio_api/call/chat/{event['event_id']}").text
        assert "event: complete" in stream and CANARY in stream

        hash_ = "s" + secrets.token_hex(5)
        join = {"data": chat_inputs(MESSAGE), "fn_index": produced.fn_index, "session_hash": hash_, "event_data": None}
        assert session.post("gradio_api/queue/join", json=join).status_code == 200
        with session.stream("GET", f"gradio_api/queue/data?session_hash={hash_}") as sse:
            lines = []
            for line in sse.iter_lines():
                lines.append(line)
                if "process_completed" in line:
                    break
        assert any("process_completed" in line and CANARY in line for line in lines)
        assert session.get("gradio_api/file=/etc/hostname").status_code == 403  # only the app's own files
