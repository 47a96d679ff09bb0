"""Audit: every number in case and policy documents must appear in the research fact sheets.

`python -m copilot.corpus.audit --research ../shared/research` lists each figure
or date that is in a document body but not in any fact sheet, as
`path:line: number 'X' is not in the research fact sheets`. Exceptions are
explained in corpus/audit-allowlist.yaml, each with its reason and source; an
allow-list entry that no longer matches anything is reported too, so the list
cannot go stale.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot import paths
from copilot.corpus.loader import load_corpus
from copilot.text.numbers import NumberBank, find_dates, find_figures

AUDITED_TYPES = ("case", "policy")


class AllowEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doc: str
    number: str = Field(min_length=1, description="The figure as written in the document.")
    reason: str = Field(min_length=10)
    source: str = Field(min_length=5)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    doc_id: str
    number: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: number '{self.number}' is not in the research fact sheets ({self.doc_id})"


def load_allowlist(path: Path) -> list[AllowEntry]:
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: must be a list of entries")
    entries = []
    for index, item in enumerate(data):
        try:
            entries.append(AllowEntry.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"{path}: entry {index}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from exc
    return entries


def audit(corpus: Path, research: Path, allowlist: list[AllowEntry]) -> tuple[list[Finding], list[AllowEntry]]:
    """Findings not covered by the allow-list, and allow-list entries that matched nothing."""
    sheets = sorted(research.glob("*.md"))
    if not sheets:
        raise FileNotFoundError(f"no research fact sheets (*.md) in {research}")
    bank = NumberBank(p.read_text(encoding="utf-8") for p in sheets)
    allowed = {(a.doc, a.number) for a in allowlist}
    used: set[tuple[str, str]] = set()
    findings: list[Finding] = []
    for doc in load_corpus(corpus).documents:
        if doc.type not in AUDITED_TYPES:
            continue
        raw = (corpus / doc.path).read_text(encoding="utf-8")
        body_start = raw.find("\n---", 3) + 4  # after the front matter
        titles = f"{doc.meta.title_zh}\n{doc.meta.title_en}"
        for text, offset in ((titles, None), (raw[body_start:], body_start)):
            missing = [d for d in find_dates(text) if not bank.has_date(d)]
            numbers = [(d.text, d.start) for d in missing]
            numbers += [(f.text, f.start) for f in find_figures(text) if not bank.has_figure(f)]
            for number, start in sorted(numbers, key=lambda x: x[1]):
                key = (doc.id, number)
                if key in allowed:
                    used.add(key)
                    continue
                line = 2 if offset is None else raw[: offset + start].count("\n") + 1
                findings.append(Finding(doc.path, line, doc.id, number))
    stale = [a for a in allowlist if (a.doc, a.number) not in used]
    return findings, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="corpus-audit", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--research", type=Path, required=True, help="folder of the research fact sheets")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: the shipped corpus)")
    args = parser.parse_args(argv)
    corpus = args.corpus or paths.corpus_dir()
    if not args.research.is_dir():
        print(f"error: research folder not found: {args.research}", file=sys.stderr)
        return 2
    try:
        allowlist = load_allowlist(corpus / "audit-allowlist.yaml")
        findings, stale = audit(corpus, args.research, allowlist)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    for entry in stale:
        print(f"audit-allowlist.yaml: entry for {entry.doc} '{entry.number}' matches nothing: remove it")
    print(
        f"{len(findings)} unexplained number(s), {len(allowlist)} allow-listed, {len(stale)} stale allow-list entries"
    )
    return 1 if findings or stale else 0


if __name__ == "__main__":
    sys.exit(main())
