"""`Understanding`: the classifiers of one knowledge base, built on first use and kept with it.

It is owned by whoever owns the embedder (the KnowledgeBase), never a module global: tests and
several copilots in one process each get their own.
"""

from __future__ import annotations

import threading
from pathlib import Path

import yaml

from copilot.understand.classifier import Classification, ClassifierParams, Encode, TextClassifier
from copilot.understand.examples import example_files, load_examples

PARAMS = Path(__file__).resolve().parent / "data" / "params.yaml"


def shipped_params(path: Path = PARAMS) -> dict[str, ClassifierParams]:
    """Per-set parameters from data/params.yaml (a set not named there uses the defaults)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {name: ClassifierParams(**values) for name, values in data.items()}


class Understanding:
    def __init__(self, encode: Encode, params: dict[str, ClassifierParams] | None = None) -> None:
        self.encode = encode
        self.params = shipped_params() if params is None else params
        self._classifiers: dict[tuple[str, tuple[Path, ...]], TextClassifier] = {}
        self._lock = threading.Lock()

    def classifier(self, name: str, path: Path | None = None, files: list[Path] | None = None) -> TextClassifier:
        """The classifier trained on evals/datasets/understanding/<name>.jsonl and <name>.*.jsonl (or `path`)."""
        chosen = files or ([path] if path is not None else example_files(name))
        key = (name, tuple(chosen))
        with self._lock:
            found = self._classifiers.get(key)
            if found is None:
                examples = [e for f in chosen for e in load_examples(f)]
                found = TextClassifier(examples, self.encode, self.params.get(name))
                self._classifiers[key] = found
            return found

    def classify(self, name: str, text: str) -> Classification:
        return self.classifier(name).classify(text)
