"""Usage of the LLM path: tokens, estimated cost and latency, as a copilot.results.Usage.

Tokens are those the server reports (`usage` in the response, also on streamed
replies thanks to stream_usage=True); when a server reports none, they are
counted with tiktoken from the offline-loaded encoding (copilot.text.tokens),
with OpenAI's per-message chat overhead, so they are an estimate.

Cost is estimated from a price table (USD per 1M input / output tokens): the one
shipped in copilot/llm/prices.yaml, overridden entry by entry by NEGO_HOME/prices.yaml.
A model the table does not know costs 0, without error (local engines).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from copilot.results import Usage
from copilot.settings import Settings
from copilot.text.tokens import count_tokens

PRICES_FILE = "prices.yaml"
_PER_MESSAGE_TOKENS = 4  # OpenAI chat format: role and separators around every message
_REPLY_PRIMING_TOKENS = 3


class PriceTableError(ValueError):
    """A price file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M prompt tokens
    output: float  # USD per 1M completion tokens


def parse_prices(text: str, origin: str) -> dict[str, Price]:
    """The price table in `text` (a fresh dict; the parse of a text is remembered: every LLM call loads it)."""
    return dict(_parsed_prices(text, origin))


@lru_cache(maxsize=16)
def _parsed_prices(text: str, origin: str) -> dict[str, Price]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PriceTableError(f"{origin}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PriceTableError(f"{origin}: expected a mapping of model name to {{input, output}}")
    prices: dict[str, Price] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"input", "output"}:
            raise PriceTableError(f"{origin}: {name}: expected {{input: USD per 1M tokens, output: USD per 1M tokens}}")
        try:
            price = Price(input=float(entry["input"]), output=float(entry["output"]))
        except (TypeError, ValueError) as exc:
            raise PriceTableError(f"{origin}: {name}: prices must be numbers") from exc
        if price.input < 0 or price.output < 0:
            raise PriceTableError(f"{origin}: {name}: prices cannot be negative")
        prices[str(name)] = price
    return prices


def shipped_prices() -> dict[str, Price]:
    text = resources.files("copilot.llm").joinpath(PRICES_FILE).read_text(encoding="utf-8")
    return parse_prices(text, "copilot/llm/prices.yaml")


def load_prices(settings: Settings) -> dict[str, Price]:
    """The shipped price table with the user's NEGO_HOME/prices.yaml entries on top."""
    prices = shipped_prices()
    override: Path = settings.home_dir / PRICES_FILE
    if override.is_file():
        prices.update(parse_prices(override.read_text(encoding="utf-8"), str(override)))
    return prices


def price_for(model: str | None, prices: Mapping[str, Price]) -> Price | None:
    """Exact name first, then the longest listed name that `model` starts with."""
    if not model:
        return None
    if model in prices:
        return prices[model]
    prefixes = [name for name in prices if model.startswith(name)]
    return prices[max(prefixes, key=len)] if prefixes else None


def estimate_cost(model: str | None, prompt_tokens: int, completion_tokens: int, prices: Mapping[str, Price]) -> float:
    price = price_for(model, prices)
    if price is None:
        return 0.0
    return (prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000


def count_prompt_tokens(texts: Iterable[str], encoding: str = "cl100k_base") -> int:
    return sum(count_tokens(t, encoding) + _PER_MESSAGE_TOKENS for t in texts) + _REPLY_PRIMING_TOKENS


def reported_tokens(message: Any) -> tuple[int, int] | None:
    """(prompt, completion) tokens the server reported on a langchain message, if any."""
    meta = getattr(message, "usage_metadata", None)
    if not meta:
        return None
    prompt, completion = int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)
    return (prompt, completion) if prompt or completion else None


@dataclass
class UsageMeter:
    """Adds up the model calls of one request; `usage()` gives the total with cost and latency."""

    model: str | None
    prices: Mapping[str, Price]
    encoding: str = "cl100k_base"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started: float = field(default_factory=time.monotonic)

    def record(self, prompt_texts: Iterable[str], reply: Any, reply_text: str) -> None:
        reported = reported_tokens(reply)
        if reported is None:
            reported = (count_prompt_tokens(prompt_texts, self.encoding), count_tokens(reply_text, self.encoding))
        self.prompt_tokens += reported[0]
        self.completion_tokens += reported[1]

    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=estimate_cost(self.model, self.prompt_tokens, self.completion_tokens, self.prices),
            latency_ms=round((time.monotonic() - self.started) * 1000, 1),
            model=self.model,
        )
