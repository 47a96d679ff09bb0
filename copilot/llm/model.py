"""The one narrow model interface: `get_chat_model(settings)` → a langchain chat model.

Every provider is reached through its OpenAI-compatible endpoint with
langchain_openai.ChatOpenAI. Base URL presets (settings.base_url wins):

    openai    None (the OpenAI default, api.openai.com)
    deepseek  https://api.deepseek.com/v1
    qwen      https://dashscope.aliyuncs.com/compatible-mode/v1 (DashScope compatible mode)
    vllm      http://127.0.0.1:8000/v1
    ollama    http://127.0.0.1:11434/v1
    llamacpp  http://127.0.0.1:8080/v1
    custom    settings.base_url is required

API key, first found wins:

    1. settings.api_key (NEGO_API_KEY, or api_key in the config file);
    2. the provider's own environment variable: OPENAI_API_KEY (openai, custom),
       DEEPSEEK_API_KEY (deepseek), DASHSCOPE_API_KEY (qwen);
    3. for local engines (vllm, ollama, llamacpp) and custom endpoints, the
       placeholder "not-needed" (the openai client insists on some key; a custom
       endpoint that does want one answers 401, which the runner reports).

A remote provider (openai, deepseek, qwen) with no key is a ModelConfigError that
names the variables to set. No message here ever contains a key.

Reading the provider variables is the one place outside copilot.settings that
looks at the environment: those names belong to the providers, not to NEGO_*.

The client is built with max_retries=0 (the runner does its own retries with
backoff and Retry-After) and stream_usage=True (token usage on streamed replies
from any OpenAI-compatible server). langchain and openai are imported lazily.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from copilot.llm.errors import ModelConfigError
from copilot.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

BASE_URLS: dict[str, str | None] = {
    "openai": None,
    "deepseek": "https://api.deepseek.com/v1",
    "qwen": "https://dashscope.aliyuncs.com/compatible-mode/v1",
    "vllm": "http://127.0.0.1:8000/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",
    "custom": None,
}
DEFAULT_MODELS: dict[str, str] = {"openai": "gpt-4o-mini", "deepseek": "deepseek-chat", "qwen": "qwen-plus"}
KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "qwen": "DASHSCOPE_API_KEY",
    "custom": "OPENAI_API_KEY",
}
REMOTE_PROVIDERS = frozenset({"openai", "deepseek", "qwen"})
LOCAL_KEY_PLACEHOLDER = "not-needed"
_OPENAI_HOST = "api.openai.com"


def resolve_base_url(settings: Settings) -> str | None:
    if settings.provider == "offline":
        raise ModelConfigError("offline mode: no model provider is configured (set NEGO_PROVIDER)")
    base_url = settings.base_url or BASE_URLS.get(settings.provider)
    if settings.provider == "custom" and not base_url:
        raise ModelConfigError("provider 'custom' needs a base URL: set NEGO_BASE_URL (e.g. http://host:port/v1)")
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ModelConfigError("the base URL must start with http:// or https:// and name a host (NEGO_BASE_URL)")
    return base_url


def resolve_model_name(settings: Settings) -> str:
    name = settings.model or DEFAULT_MODELS.get(settings.provider)
    if not name:
        raise ModelConfigError(
            f"provider {settings.provider!r} needs a model name: set NEGO_MODEL (the name the server serves)"
        )
    return name


def resolve_api_key(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """The API key to send, in the documented order. Raises ModelConfigError (without any key) if none."""
    if settings.api_key is not None and settings.api_key.get_secret_value().strip():
        return settings.api_key.get_secret_value().strip()
    env = os.environ if environ is None else environ
    env_name = KEY_ENV.get(settings.provider)
    if env_name and env.get(env_name, "").strip():
        return env[env_name].strip()
    if settings.provider in REMOTE_PROVIDERS:
        raise ModelConfigError(f"provider {settings.provider!r} needs an API key: set NEGO_API_KEY or {env_name}")
    return LOCAL_KEY_PLACEHOLDER


def get_chat_model(settings: Settings, environ: Mapping[str, str] | None = None) -> BaseChatModel:
    """A ChatOpenAI client for the configured provider (no network until it is called)."""
    from copilot.text.tokens import ensure_tiktoken_cache

    base_url = resolve_base_url(settings)
    model = resolve_model_name(settings)
    api_key = resolve_api_key(settings, environ)
    # langchain-openai counts tokens with tiktoken.get_encoding, which would download BPE files.
    ensure_tiktoken_cache(settings.home_dir / "tiktoken")

    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=SecretStr(api_key),
        timeout=settings.timeout_s,
        max_retries=0,
        stream_usage=True,
    )


def describe_model(settings: Settings) -> str:
    """A safe label for the UI: "offline", or "deepseek-chat @ api.deepseek.com" (never a key or credentials)."""
    if settings.provider == "offline":
        return "offline"
    model = settings.model or DEFAULT_MODELS.get(settings.provider) or "(no model)"
    base_url = settings.base_url or BASE_URLS.get(settings.provider)
    if base_url is None:
        host = _OPENAI_HOST if settings.provider == "openai" else "(no base URL)"
    else:
        parts = urlsplit(base_url)
        host = parts.hostname or "(invalid base URL)"  # hostname drops any user:password@
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is not None:
            host = f"{host}:{port}"
    return f"{model} @ {host}"
