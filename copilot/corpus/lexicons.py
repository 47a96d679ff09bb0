"""Reference data beside the documents: industry lexicons (corpus/industries/*.yaml) and regimes (corpus/regimes.yaml).

They are not documents (nothing in them is cited or indexed): copilot.reading uses them to read a
deal. A lexicon lists an industry's names, actors, goods, documents, places and events in zh and
en, each list in chain order, so that position i of one industry's actors corresponds to position
i of another's (the playbook's wording is swapped that way). A regime is a compliance regime reps
name ("等保三级", "DORA"): its names in both languages and the policy document that covers it, when
the corpus has one. Both are validated with the corpus (`python -m copilot.corpus`, `nego index
--strict`): each problem is `path:line: field: what is wrong`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from copilot.corpus.loader import Problem, _validation_problems
from copilot.corpus.models import Bilingual
from copilot.corpus.yaml_lines import YamlSyntaxError, compose, construct
from copilot.vocabulary import RegionKey, ScenarioKey

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:_[a-z0-9]+)*$", max_length=60)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
INDUSTRIES_DIR = "industries"
REGIMES_FILE = "regimes.yaml"
LEXICON_PARTS = ("actors", "goods", "documents", "places", "events")


class Names(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: list[Name] = Field(default_factory=list)
    en: list[Name] = Field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.zh, *self.en]


class IndustryLexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Key
    names: Names
    actors: list[Bilingual] = Field(min_length=1)
    goods: list[Bilingual] = Field(default_factory=list)
    documents: list[Bilingual] = Field(default_factory=list)
    places: list[Bilingual] = Field(default_factory=list)
    events: list[Bilingual] = Field(default_factory=list)
    scenarios: list[ScenarioKey] = Field(default_factory=list)

    def part(self, name: str) -> list[Bilingual]:
        return list(getattr(self, name))

    def terms(self, lang: str) -> list[str]:
        """Every actor, good, document, place and event of the industry in `lang`."""
        return [t.get(lang) for part in LEXICON_PARTS for t in self.part(part)]

    def label(self, lang: str) -> str:
        names = self.names.zh if lang == "zh" else self.names.en
        return names[0] if names else self.key


class Regime(BaseModel):
    """A compliance regime and the policy document covering it (None: the corpus has none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Key
    label: Bilingual
    names: Names
    regions: list[RegionKey] = Field(default_factory=list)
    policy_doc: str | None = Field(default=None, description="id of the corpus policy document covering it")

    def name(self, lang: str) -> str:
        return self.label.get(lang)


def _read(path: Path, rel: str) -> tuple[Any, yaml.Node | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [Problem(rel, 1, "file", f"cannot read: {exc}")]
    try:
        node = compose(text)
        return (None if node is None else construct(node)), node, []
    except YamlSyntaxError as exc:
        return None, None, [Problem(rel, exc.line, "yaml", exc.message)]


def load_industries(root: Path) -> tuple[list[IndustryLexicon], list[Problem]]:
    out: list[IndustryLexicon] = []
    problems: list[Problem] = []
    folder = root / INDUSTRIES_DIR
    if not folder.is_dir():
        return out, problems
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.y*ml")):
        rel = path.relative_to(root).as_posix()
        data, node, bad = _read(path, rel)
        problems += bad
        if bad or node is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(rel, 1, "lexicon", "an industry lexicon is a mapping (key, names, actors, …)"))
            continue
        try:
            lexicon = IndustryLexicon.model_validate(data)
        except ValidationError as exc:
            problems += _validation_problems(exc, rel, node, line_offset=0)
            continue
        if lexicon.key in seen:
            problems.append(
                Problem(rel, 1, "key", f"industry {lexicon.key!r} is already defined in {seen[lexicon.key]}")
            )
            continue
        seen[lexicon.key] = rel
        out.append(lexicon)
    return out, problems


def load_regimes(root: Path, document_ids: set[str] | None = None) -> tuple[list[Regime], list[Problem]]:
    """The regimes of corpus/regimes.yaml (a list, or a mapping with a `regimes:` list); policy_doc must exist."""
    path = root / REGIMES_FILE
    if not path.is_file():
        return [], []
    data, node, problems = _read(path, REGIMES_FILE)
    if problems or node is None:
        return [], problems
    items_node: Any = node
    if isinstance(data, dict) and isinstance(data.get("regimes"), list):
        items_node = next(v for k, v in node.value if getattr(k, "value", None) == "regimes")
        data = data["regimes"]
    if not isinstance(data, list):
        return [], [
            Problem(REGIMES_FILE, 1, "regimes", "expected a list of regimes (key, label, names, regions, policy_doc)")
        ]
    out: list[Regime] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        item_node = items_node.value[index]
        line = item_node.start_mark.line + 1
        try:
            regime = Regime.model_validate(item)
        except ValidationError as exc:
            problems += _validation_problems(exc, REGIMES_FILE, item_node, line_offset=0, prefix=(index,))
            continue
        if regime.key in seen:
            problems.append(Problem(REGIMES_FILE, line, f"[{index}].key", f"regime {regime.key!r} is listed twice"))
            continue
        if document_ids is not None and regime.policy_doc and regime.policy_doc not in document_ids:
            where = f"[{index}].policy_doc"
            problems.append(Problem(REGIMES_FILE, line, where, f"unknown document id {regime.policy_doc!r}"))
            regime = regime.model_copy(update={"policy_doc": None})
        seen.add(regime.key)
        out.append(regime)
    return out, problems
