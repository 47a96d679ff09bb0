"""What the app works with: settings, the index store, the copilot and the history, opened once.

One context serves every browser session. The copilot is replaced as a whole
(new settings, a document added), never changed in place, so a request that is
already running finishes with the copilot it started with.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.connection import model_label
from copilot.core import Copilot
from copilot.history import History
from copilot.index.store import ChunkStore
from copilot.settings import Settings
from ui.labels import ui_text


@dataclass
class AppContext:
    settings: Settings
    store: ChunkStore
    copilot: Copilot
    history: History
    files_dir: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings, store: ChunkStore | None = None) -> AppContext:
        """Open everything; the index must not be empty (`nego ui` indexes first when it is)."""
        store = store or ChunkStore.open(settings)
        copilot = Copilot.open(settings)
        files_dir = Path(tempfile.mkdtemp(prefix="nego-ui-"))
        return cls(settings, store, copilot, History.open(settings), files_dir)

    def apply_settings(self, updates: dict[str, Any]) -> Settings:
        """Validate new settings and switch the copilot to them (raises pydantic's ValidationError)."""
        with self._lock:
            values = self.settings.model_dump()
            values.update(updates)
            settings = Settings(**values)
            self.copilot = Copilot.open(settings, self.copilot.kb)
            self.settings = settings
            return settings

    def reload_knowledge(self) -> None:
        """After a document was added: the copilot sees the new corpus and index."""
        with self._lock:
            self.copilot.reload_knowledge(self.store)

    def mode_badge(self, lang: str) -> str:
        if self.copilot.mode == "llm":
            return ui_text(lang, "app.mode_llm", model=model_label(self.settings))
        if self.settings.provider != "offline":
            return ui_text(lang, "app.mode_configured", model=model_label(self.settings))
        return ui_text(lang, "app.mode_offline")

    def new_files_dir(self) -> Path:
        """A fresh folder for one request's downloads (two users never overwrite each other's files)."""
        return Path(tempfile.mkdtemp(dir=self.files_dir))

    def close(self) -> None:
        shutil.rmtree(self.files_dir, ignore_errors=True)
