"""What reading a deal needs, without an index: the corpus's regimes and lexicons and the classifiers.

`nego deal check` reads a deal with it, so a rep can check a deal file before anything is indexed.
The full KnowledgeBase offers the same three attributes.
"""

from __future__ import annotations

from functools import cached_property

from copilot.corpus.lexicons import IndustryLexicon, Regime
from copilot.corpus.loader import load_corpus
from copilot.settings import Settings
from copilot.understand.hub import Understanding


class ReadingSources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        loaded = load_corpus(settings.corpus_path)
        self.regimes: list[Regime] = loaded.regimes
        self.industries: list[IndustryLexicon] = loaded.industries

    @cached_property
    def understanding(self) -> Understanding:
        from copilot.index.embedding import embedder_from_settings

        s = self.settings
        embedder = embedder_from_settings(
            s.embedding,
            s.embedding_threads,
            s.embedding_model,
            s.embedding_base_url or s.base_url,
            s.api_key.get_secret_value() if s.api_key else None,
        )
        return Understanding(embedder.encode)
