"""The `understanding` suite: every labelled example set of copilot.understand, classified leave-one-out.

A case is one example of one set (constraints, objections, routing, fit evidence…): it is
classified by that set's classifier with itself left out, so the figure is the accuracy on text
the classifier has not seen. Metrics per case: `<set>` (1 when the label is right) and
`<set>.<label>` (the same, grouped by the expected label), so the summary gives each set's accuracy
and each class's; evals/thresholds.yaml gates both.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from copilot.knowledge import KnowledgeBase
from copilot.understand.examples import ExamplesError, LabelledExample, load_examples
from evals.cases import DatasetError
from evals.models import CaseResult, MetricResult, SkillOutput


class UnderstandingCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    set_name: str
    files: tuple[Path, ...]
    example: LabelledExample

    @property
    def id(self) -> str:
        return f"{self.set_name}/{self.example.id}"


def set_files(directory: Path) -> dict[str, list[Path]]:
    """Each set's files in `directory`: `<set>.jsonl` and its parts `<set>.<part>.jsonl`."""
    sets: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("*.jsonl")):
        name = path.name.split(".", 1)[0]
        sets.setdefault(name, []).append(path)
    return sets


def directory_sha256(directory: Path) -> str:
    digest = hashlib.sha256()
    for files in set_files(directory).values():
        for path in files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_understanding_cases(directory: Path) -> list[UnderstandingCase]:
    if not directory.is_dir():
        raise DatasetError(f"{directory}: the understanding suite's dataset is a folder of labelled .jsonl sets")
    cases: list[UnderstandingCase] = []
    for name, files in set_files(directory).items():
        seen: set[str] = set()
        for path in files:
            try:
                examples = load_examples(path)
            except ExamplesError as exc:
                raise DatasetError(str(exc)) from exc
            for example in examples:
                if example.id in seen:
                    raise DatasetError(f"{path}: id: {example.id!r} is used twice in set {name!r}")
                seen.add(example.id)
                cases.append(UnderstandingCase(set_name=name, files=tuple(files), example=example))
    if not cases:
        raise DatasetError(f"{directory}: no labelled examples")
    return cases


def run_understanding_case(kb: KnowledgeBase, case: UnderstandingCase, index: int) -> CaseResult:
    started = time.perf_counter()
    classifier = kb.understanding.classifier(case.set_name, files=list(case.files))
    got = classifier.classify(case.example.text, exclude=case.example.id)
    latency = round((time.perf_counter() - started) * 1000, 1)
    ok = got.label == case.example.label
    problem = [] if ok else [f"expected {case.example.label}, got {got.label} ({got.confidence:.2f})"]
    metrics = [
        MetricResult(name=case.set_name, score=float(ok), passed=ok, problems=problem),
        MetricResult(name=f"{case.set_name}.{case.example.label}", score=float(ok), passed=ok),
    ]
    output = SkillOutput(
        skill="classify",
        task=case.example.text,
        language=case.example.lang,
        text=got.reason(),
        facts={"set": case.set_name, "expected": case.example.label, "got": got.label, "unsure": got.unsure},
        latency_ms=latency,
    )
    return CaseResult(
        case_id=case.id,
        suite="understanding",
        index=index,
        lang=case.example.lang,
        tags={"set": case.set_name, "label": case.example.label},
        status="pass" if ok else "fail",
        metrics=metrics,
        outputs=[output],
    )
