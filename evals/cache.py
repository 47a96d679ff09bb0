"""A response cache on disk for the eval runs' model calls (the copilot's and the judge's).

It plugs into langchain's own cache hook (`BaseChatModel.cache`), so the key is
what langchain uses: the serialised prompt messages plus the "llm string" (the
model's class, name, endpoint and parameters, and the call's own parameters
such as the structured-output schema or temperature; never the API key). A
rerun of the same cases with the same model and parameters makes no model call.

One JSON file per entry, named by the sha256 of the key and written atomically,
so concurrent workers and interrupted runs never leave a broken entry. Lookups
and misses are counted per thread, so the runner can tell how many calls each
case made.

langchain is imported here, so import this module only when a model is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

from copilot.llm.failures import scrub_keys

CACHE_VERSION = 1


class ResponseCache(BaseCache):
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._local = threading.local()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    # -- counting ---------------------------------------------------------------------------------
    def thread_counts(self) -> tuple[int, int]:
        """(misses, hits) of lookups made by this thread since its last reset."""
        return getattr(self._local, "misses", 0), getattr(self._local, "hits", 0)

    def reset_thread_counts(self) -> None:
        self._local.misses = 0
        self._local.hits = 0

    def _count(self, hit: bool) -> None:
        name = "hits" if hit else "misses"
        setattr(self._local, name, getattr(self._local, name, 0) + 1)
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    # -- storage ----------------------------------------------------------------------------------
    @staticmethod
    def key(prompt: str, llm_string: str) -> str:
        return hashlib.sha256(f"v{CACHE_VERSION}\x00{prompt}\x00{llm_string}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        path = self._path(self.key(prompt, llm_string))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            generations = [_generation(item) for item in data["generations"]]
        except (OSError, ValueError, KeyError, TypeError):
            self._count(hit=False)
            return None
        self._count(hit=True)
        return generations

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        items = [_serialise(g) for g in return_val]
        if any(item is None for item in items):
            return  # not a chat generation: do not cache what cannot be replayed faithfully
        path = self._path(self.key(prompt, llm_string))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        text = json.dumps({"version": CACHE_VERSION, "generations": items}, ensure_ascii=False)
        # A server may put a key in a reply (a refusal echoing it): nothing key-shaped goes to disk.
        tmp.write_text(scrub_keys(text), "utf-8")
        tmp.replace(path)

    def clear(self, **kwargs: Any) -> None:
        if self.directory.is_dir():
            shutil.rmtree(self.directory)

    def entries(self) -> int:
        return sum(1 for _ in self.directory.rglob("*.json")) if self.directory.is_dir() else 0


def _serialise(generation: Generation) -> dict[str, Any] | None:
    if not isinstance(generation, ChatGeneration):
        return None
    return {"message": message_to_dict(generation.message), "generation_info": generation.generation_info}


def _generation(item: dict[str, Any]) -> ChatGeneration:
    (message,) = messages_from_dict([item["message"]])
    return ChatGeneration(message=message, generation_info=item.get("generation_info"))


def attach_cache(model: Any, cache: ResponseCache) -> Any:
    """A copy of the chat model that reads and writes `cache` (the key does not change: see above)."""
    return model.model_copy(update={"cache": cache})
