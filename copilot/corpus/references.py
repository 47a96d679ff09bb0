"""Cross-reference checks: ids a document points to must exist and have the right type."""

from __future__ import annotations

from copilot.corpus.loader import Problem
from copilot.corpus.models import Document, GlossaryEntry, MarkdownMeta, PlaybookEntry, RiskEntry


def _refs(doc: Document) -> list[tuple[str, str, set[str]]]:
    """(field, target id, allowed target types) for every reference `doc` makes."""
    evidence = {"case", "policy"}
    out: list[tuple[str, str, set[str]]] = []
    entry = doc.entry
    if isinstance(entry, GlossaryEntry):
        out += [("related_cases", t, {"case"}) for t in entry.related_cases]
    elif isinstance(entry, RiskEntry):
        out += [("evidence", t, evidence) for t in entry.evidence]
    elif isinstance(entry, PlaybookEntry):
        out += [("related_cases", t, {"case"}) for t in entry.related_cases]
        out += [("related_policies", t, {"policy"}) for t in entry.related_policies]
        for obj in entry.objections:
            out += [("objections.proof", t, evidence) for t in obj.proof]
    elif isinstance(doc.meta, MarkdownMeta):
        all_types = {"case", "policy", "glossary", "risk", "playbook", "method"}
        out += [("related", t, all_types) for t in doc.meta.related]
    return out


def check_references(documents: list[Document]) -> list[Problem]:
    by_id = {d.id: d for d in documents}
    problems = []
    for doc in documents:
        for field, target, allowed in _refs(doc):
            found = by_id.get(target)
            if found is None:
                problems.append(Problem(doc.path, doc.line, field, f"unknown document id '{target}' (in {doc.id})"))
            elif found.type not in allowed:
                problems.append(
                    Problem(
                        doc.path, doc.line, field, f"'{target}' is a {found.type}, expected {'/'.join(sorted(allowed))}"
                    )
                )
    return problems
