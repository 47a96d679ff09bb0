"""One classifier for all text understanding: which labelled class is this text closest to, and how sure.

Constraint sentences, buyer objections, chat turns and fit evidence are all classified the same
way: k nearest labelled examples by a blend of sentence-embedding similarity (the retriever's
multilingual embedder, so Chinese and English share one space) and BM25 over the same tokens the
retriever uses; the neighbours vote with their similarity. Clause-level negation is a feature: a
neighbour whose polarity differs from the text's is discounted, so "a party everyone trusts runs
it" and "no party everyone trusts could run it" do not vote for each other. Below `min_confidence`
the answer is `unsure` and the caller asks instead of guessing.

A new kind of understanding is a new example file, not new code. `leave_one_out` classifies each
example against all the others: that is the classifier's accuracy in the eval gate.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict

from copilot.text.segment import tokenize
from copilot.understand.examples import ExamplesError, LabelledExample
from copilot.understand.negation import NegationRules, rules

Encode = Callable[[list[str]], np.ndarray]
BM25_K1 = 1.2
BM25_B = 0.75


class Neighbour(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    label: str
    text: str
    score: float


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    confidence: float
    unsure: bool
    negated: bool
    scores: dict[str, float]
    neighbours: list[Neighbour]

    def reason(self) -> str:
        top = self.neighbours[0] if self.neighbours else None
        near = f"; nearest: {top.text!r} ({top.label}, {top.score:.2f})" if top else ""
        return f"{self.label} ({self.confidence:.2f}{', unsure' if self.unsure else ''}){near}"


@dataclass(frozen=True)
class ClassifierParams:
    k: int = 15
    dense_weight: float = 0.7
    sparse_weight: float = 0.3
    polarity_penalty: float = 0.75
    """A neighbour of the other polarity (negated vs not) has its similarity multiplied by this."""
    min_confidence: float = 0.45
    power: float = 3.0
    """Neighbour votes are similarity ** power: the closest examples count most."""
    centroid_weight: float = 0.6
    """Share of the class-centroid vote (each class's mean embedding) against the neighbours' vote."""
    centroid_temperature: float = 0.05
    """Softmax temperature over centroid similarities: lower is sharper."""


class _Bm25:
    def __init__(self, docs: list[list[str]]) -> None:
        self.docs = [Counter(d) for d in docs]
        self.lengths = np.array([len(d) for d in docs], dtype=np.float64)
        self.avg = float(self.lengths.mean()) if len(docs) else 0.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: list[str]) -> np.ndarray:
        out = np.zeros(len(self.docs))
        terms = [t for t in set(query) if t in self.idf]
        for i, doc in enumerate(self.docs):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lengths[i] / (self.avg or 1.0))
            for t in terms:
                tf = doc.get(t, 0)
                if tf:
                    out[i] += self.idf[t] * tf * (BM25_K1 + 1) / (tf + norm)
        return out


class TextClassifier:
    """k-NN over labelled examples (dense + BM25, negation-aware); see the module docstring."""

    def __init__(
        self,
        examples: Sequence[LabelledExample],
        encode: Encode,
        params: ClassifierParams | None = None,
        negation: NegationRules | None = None,
    ) -> None:
        self.examples = list(examples)
        self.encode = encode
        self.params = params or ClassifierParams()
        self.negation = negation or rules()
        self.labels = sorted({e.label for e in self.examples})
        if len(self.labels) < 2:
            raise ExamplesError(f"a classifier needs at least two labels, got {self.labels}")
        vectors = encode([e.text for e in self.examples])
        self.vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        self.bm25 = _Bm25([tokenize(e.text) for e in self.examples])
        self.polarity = np.array([self.negation.negated(e.text) for e in self.examples])
        self.label_index = np.array([self.labels.index(e.label) for e in self.examples])
        self.class_sums = np.vstack([self.vectors[self.label_index == j].sum(axis=0) for j in range(len(self.labels))])
        self.class_counts = np.bincount(self.label_index, minlength=len(self.labels)).astype(np.float64)
        self.positions = {e.id: i for i, e in enumerate(self.examples)}

    def _centroid_votes(self, vector: np.ndarray, exclude: int | None) -> np.ndarray:
        sums, counts = self.class_sums, self.class_counts
        if exclude is not None:
            sums = sums.copy()
            counts = counts.copy()
            sums[self.label_index[exclude]] -= self.vectors[exclude]
            counts[self.label_index[exclude]] -= 1
        means = sums / np.maximum(counts, 1.0)[:, None]
        means = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)
        logits = (means @ vector) / self.params.centroid_temperature
        logits = np.where(counts > 0, logits, -np.inf)
        weights = np.exp(logits - logits.max())
        return np.asarray(weights / weights.sum())

    def _scored(self, text: str) -> tuple[np.ndarray, bool, np.ndarray]:
        vector = self.encode([text])[0]
        vector = vector / max(float(np.linalg.norm(vector)), 1e-9)
        dense = np.clip(self.vectors @ vector, 0.0, 1.0)
        sparse = self.bm25.scores(tokenize(text))
        top = float(sparse.max()) if sparse.size else 0.0
        sparse = sparse / top if top > 0 else sparse
        sims = self.params.dense_weight * dense + self.params.sparse_weight * sparse
        negated = self.negation.negated(text)
        sims = np.where(self.polarity == negated, sims, sims * self.params.polarity_penalty)
        return sims, negated, vector

    def classify(self, text: str, exclude: str | None = None) -> Classification:
        """The label of `text`; `exclude` leaves one example out (its id), for leave-one-out evaluation."""
        sims, negated, vector = self._scored(text)
        order = [i for i in np.argsort(-sims) if self.examples[i].id != exclude][: self.params.k]
        votes: dict[str, float] = defaultdict(float)
        for i in order:
            votes[self.examples[i].label] += float(sims[i]) ** self.params.power
        total = sum(votes.values()) or 1.0
        centroid = self._centroid_votes(vector, self.positions.get(exclude) if exclude else None)
        share = self.params.centroid_weight
        scores = {
            label: round((1 - share) * votes.get(label, 0.0) / total + share * float(centroid[j]), 4)
            for j, label in enumerate(self.labels)
        }
        label = max(self.labels, key=lambda lab: (scores[lab], lab == self.examples[order[0]].label if order else 0))
        confidence = scores[label]
        neighbours = [
            Neighbour(
                id=self.examples[i].id,
                label=self.examples[i].label,
                text=self.examples[i].text,
                score=round(float(sims[i]), 4),
            )
            for i in order[:3]
        ]
        return Classification(
            label=label,
            confidence=confidence,
            unsure=confidence < self.params.min_confidence,
            negated=negated,
            scores=scores,
            neighbours=neighbours,
        )


class LooReport(BaseModel):
    """Leave-one-out accuracy of a classifier on its own examples."""

    name: str
    total: int
    correct: int
    accuracy: float
    per_label: dict[str, float]
    per_lang: dict[str, float]
    errors: list[dict[str, str]]


def leave_one_out(name: str, classifier: TextClassifier) -> LooReport:
    hits: dict[str, list[bool]] = defaultdict(list)
    langs: dict[str, list[bool]] = defaultdict(list)
    errors: list[dict[str, str]] = []
    for example in classifier.examples:
        got = classifier.classify(example.text, exclude=example.id)
        ok = got.label == example.label
        hits[example.label].append(ok)
        langs[example.lang].append(ok)
        if not ok:
            errors.append({"id": example.id, "text": example.text, "expected": example.label, "got": got.label})
    correct = sum(sum(v) for v in hits.values())
    total = len(classifier.examples)
    return LooReport(
        name=name,
        total=total,
        correct=correct,
        accuracy=round(correct / total, 4) if total else 0.0,
        per_label={k: round(sum(v) / len(v), 4) for k, v in sorted(hits.items())},
        per_lang={k: round(sum(v) / len(v), 4) for k, v in sorted(langs.items())},
        errors=errors,
    )
