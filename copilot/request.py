"""What a rep's chat turn asks for, beyond which skill: the buyer's words and the requested form.

- `buyer_words`: in a meta-request ("他说供应商不会愿意录数据，怎么回应？", "what should I say if
  they tell me 'our suppliers won't pay'?") the objection skill must get the buyer's words, not the
  rep's question around them.
- `requested_form`: "in two sentences", "3 bullets", "100字以内", "under 80 words", "用英文",
  "to a CFO": the answer is shaped to it (copilot.shaping) offline, whatever the skill.

Patterns are language data in copilot/understand/data/requests.yaml, checked against the labelled
turns of evals/datasets/understanding/routing.jsonl (tests/test_request.py).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

DATA = Path(__file__).resolve().parent / "understand" / "data" / "requests.yaml"
MIN_WORDS_CHARS = 2


class RequestedForm(BaseModel):
    model_config = ConfigDict(frozen=True)

    sentences: int | None = None
    bullets: int | None = None
    max_chars: int | None = None
    max_words: int | None = None
    language: str | None = None
    audience: str | None = None

    def shapes_text(self) -> bool:
        return any(v is not None for v in (self.sentences, self.bullets, self.max_chars, self.max_words))


@cache
def _data() -> dict[str, Any]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{DATA}: a mapping is expected")
    return data


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    numbers: dict[str, int] = _data()["numbers"]
    lowered = text.lower()
    if lowered in numbers:
        return int(numbers[lowered])
    if len(text) == 2 and numbers.get(text[0]) == 10 and text[1] in numbers:  # 十二: ten, then a digit
        return 10 + int(numbers[text[1]])
    return None


def _strip_tail(text: str) -> str:
    """`text` without the rep's question after the buyer's words ("，怎么回应？", ". how do I answer that")."""
    data = _data()
    previous = None
    while previous != text:
        previous = text
        for lang in ("zh", "en"):
            text = _rx(data["meta_tail"][lang]).sub("", text).rstrip()
    return text.strip(" ，,。.;；:：—-")


def buyer_words(message: str) -> str:
    """The buyer's own words inside a rep's request; the request itself when it quotes no one."""
    text = message.strip()
    quoted = [m.group(1).strip() for p in _data()["quotes"] for m in _rx(p).finditer(text)]
    quoted = [q for q in quoted if len(q) >= MIN_WORDS_CHARS]
    if quoted:
        return max(quoted, key=len)
    text = _rx(_data()["meta_head"]["en"]).sub("", text)
    best: tuple[int, str] | None = None
    for lang in ("zh", "en"):
        match = _rx(_data()["said"][lang]).search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), text[match.end() :])
    rest = best[1] if best else text
    words = _strip_tail(rest)
    return words if len(words) >= MIN_WORDS_CHARS else message.strip()


def _first_number(patterns: list[str], text: str) -> int | None:
    for pattern in patterns:
        for match in _rx(pattern).finditer(text):
            value = _number(match.group(1))
            if value:
                return value
    return None


def requested_form(message: str) -> RequestedForm:
    """The form `message` asks for; fields it does not mention are None."""
    data = _data()
    form = data["form"]
    sentences = _first_number(form["sentences"], message)
    bullets = None if sentences else _first_number(form["bullets"], message)
    language = next(
        (lang for lang, patterns in data["language"].items() if any(_rx(p).search(message) for p in patterns)), None
    )
    audience = None
    for pattern in data["audience"]:
        match = _rx(pattern).search(message)
        if match and match.group(1).strip():
            audience = match.group(1).strip()
            break
    return RequestedForm(
        sentences=sentences,
        bullets=bullets,
        max_chars=_first_number(form["max_chars"], message),
        max_words=_first_number(form["max_words"], message),
        language=language,
        audience=audience,
    )
