"""The knowledge corpus: schemas, loading and validation."""

from copilot.corpus.loader import LoadResult, Problem, load_corpus
from copilot.corpus.models import Document

__all__ = ["Document", "LoadResult", "Problem", "load_corpus"]
