"""`Understanding`: the classifiers of one knowledge base, built on first use and kept with it.

It is owned by whoever owns the embedder (the KnowledgeBase), never a module global: tests and
several copilots in one process each get their own.
"""

from __future__ import annotations

import threading
from pathlib import Path

from copilot.understand.classifier import Classification, ClassifierParams, Encode, TextClassifier
from copilot.understand.examples import examples_path, load_examples


class Understanding:
    def __init__(self, encode: Encode, params: dict[str, ClassifierParams] | None = None) -> None:
        self.encode = encode
        self.params = params or {}
        self._classifiers: dict[str, TextClassifier] = {}
        self._lock = threading.Lock()

    def classifier(self, name: str, path: Path | None = None) -> TextClassifier:
        """The classifier trained on evals/datasets/understanding/<name>.jsonl (or `path`)."""
        with self._lock:
            found = self._classifiers.get(name)
            if found is None:
                examples = load_examples(path or examples_path(name))
                found = TextClassifier(examples, self.encode, self.params.get(name))
                self._classifiers[name] = found
            return found

    def classify(self, name: str, text: str) -> Classification:
        return self.classifier(name).classify(text)
