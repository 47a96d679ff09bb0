"""Helpers for the UI tests: a private copy of the shipped index, a launched app, deal fields for the API.

Copying the session index (`shipped_index`) chunk by chunk with its vectors
takes about a second, where indexing the corpus again takes tens of seconds;
the copy gets its own corpus directory so adding a document never touches the
repository's corpus.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from copilot import paths
from copilot.deal import Deal
from copilot.index.indexer import index_corpus
from copilot.index.store import ChunkStore, state_file
from copilot.settings import Settings


def clone_shipped_index(shipped_index: Any, root: Path) -> tuple[Settings, ChunkStore]:
    """A new NEGO_HOME under `root` holding the shipped corpus (copied) and its index (copied, not rebuilt)."""
    source_settings, source_store, _ = shipped_index
    corpus = root / "corpus"
    shutil.copytree(paths.corpus_dir(), corpus)
    settings = Settings(home=root / "home", corpus_dir=corpus)
    store = ChunkStore.open(settings)
    rows = source_store.rows()
    vectors = source_store.vectors([r.chunk_id for r in rows])
    store.upsert(rows, np.stack([vectors[r.chunk_id] for r in rows]))
    shutil.copy(state_file(source_settings), state_file(settings))
    report = index_corpus(settings, store)
    assert report.added == report.updated == report.removed == 0, report.summary()
    return settings, store


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(settings: Settings, store: ChunkStore | None = None) -> Iterator[tuple[str, Any]]:
    """The app served on 127.0.0.1 on a free port: yields (url, AppContext)."""
    from ui.app import launch
    from ui.context import AppContext

    ctx = AppContext.open(settings, store)
    demo, url = launch(ctx, "127.0.0.1", free_port(), block=False, quiet=True)
    try:
        yield url, ctx
    finally:
        demo.close()
        ctx.close()


def deal_fields(deal: Deal | None = None) -> dict[str, Any]:
    """The deal panel's API parameters (every one must be given to the API)."""
    if deal is None:
        return {
            "customer": "",
            "industry": "",
            "scenario": "traceability",
            "region": "cn",
            "language": "auto",
            "audience": "",
            "pains": "",
            "goals": "",
            "systems": "",
            "budget": "",
            "timeline": "",
            "stage": "discovery",
            "constraints": "",
        }
    return {
        "customer": deal.customer,
        "industry": deal.industry or "",
        "scenario": deal.scenario,
        "region": deal.region,
        "language": deal.language or "auto",
        "audience": "\n".join(deal.audience),
        "pains": "\n".join(deal.pains),
        "goals": "\n".join(deal.goals),
        "systems": "\n".join(deal.systems),
        "budget": deal.constraints.budget or "",
        "timeline": deal.constraints.timeline or "",
        "stage": deal.stage,
        "constraints": "\n".join(
            [*c.compliance, *c.data_residency, *c.other, *c.sentences] if (c := deal.constraints) else []
        ),
    }


def text_of(message: dict[str, Any]) -> str:
    """A chatbot message's text: Gradio 6 sends content as a list of blocks."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content or [] if isinstance(block, dict))


def update_value(output: Any) -> Any:
    """The value of a component update returned to gradio_client ({'__type__': 'update', 'value': ...})."""
    return output.get("value") if isinstance(output, dict) and output.get("__type__") == "update" else output
