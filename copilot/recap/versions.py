"""Deal memory: every version of a deal kept under NEGO_HOME/deals/<customer>/vNNNN.json with the note it came from.

A version is written atomically and never changed; restoring an old version writes it again as the
newest one (source "restore vN"), so the history only grows and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copilot.export import write_atomic
from copilot.results import Model

_FILE = re.compile(r"^v(\d{4,})\.json$")
MAX_NOTE_CHARS = 200_000


class VersionError(ValueError):
    """A version does not exist or a version file is unreadable; the message names it."""


class DealVersion(Model):
    version: int
    customer: str
    created: str
    source: str
    note: str = ""
    deal: dict[str, Any]


class DealVersions:
    def __init__(self, home: Path) -> None:
        self.root = home / "deals"

    def folder(self, customer: str) -> Path:
        slug = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]+", "-", customer).strip("-")[:40] or "deal"
        digest = hashlib.sha1(customer.encode("utf-8")).hexdigest()[:8]
        return self.root / f"{slug}-{digest}"

    def _files(self, customer: str) -> list[tuple[int, Path]]:
        folder = self.folder(customer)
        if not folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _FILE.match(p.name))]
        return sorted(found)

    def _read(self, path: Path) -> DealVersion:
        try:
            return DealVersion.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError, ValueError) as exc:
            raise VersionError(f"{path}: unreadable deal version ({exc})") from exc

    def list(self, customer: str) -> list[DealVersion]:
        return [self._read(path) for _, path in self._files(customer)]

    def get(self, customer: str, version: int | None = None) -> DealVersion:
        """Version `version` of the customer's deal (None: the newest)."""
        files = self._files(customer)
        if not files:
            raise VersionError(f"no saved versions for {customer!r} (in {self.folder(customer)})")
        if version is None:
            return self._read(files[-1][1])
        for number, path in files:
            if number == version:
                return self._read(path)
        raise VersionError(f"{customer!r} has no version {version} (versions 1–{files[-1][0]})")

    def save(self, customer: str, deal: dict[str, Any], source: str, note: str = "") -> DealVersion:
        files = self._files(customer)
        version = (files[-1][0] + 1) if files else 1
        record = DealVersion(
            version=version,
            customer=customer,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            source=source,
            note=note[:MAX_NOTE_CHARS],
            deal=deal,
        )
        path = self.folder(customer) / f"v{version:04d}.json"
        payload = json.dumps(record.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"

        def write(tmp: Path) -> None:
            tmp.write_text(payload, encoding="utf-8")

        write_atomic(path, write)
        return record

    def restore(self, customer: str, version: int) -> DealVersion:
        old = self.get(customer, version)
        return self.save(customer, old.deal, f"restore v{version}", old.note)
