"""Settings: defaults < config file < environment < explicit overrides; bad values are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from copilot.settings import ConfigFileError, Settings


def test_defaults_are_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.load()
    assert settings.provider == "offline" and settings.api_key is None
    assert settings.home == Path("~/.nego")


def test_config_file_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('chunk_max_tokens = 200\nlanguage = "en"\nmodel = "from-file"\n')
    monkeypatch.setenv("NEGO_HOME", str(home))
    monkeypatch.setenv("NEGO_MODEL", "from-env")
    settings = Settings.load(language="zh")
    assert settings.home == home
    assert settings.chunk_max_tokens == 200  # file
    assert settings.model == "from-env"  # env beats file
    assert settings.language == "zh"  # override beats both


def test_unknown_key_in_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigFileError, match="unknown setting"):
        Settings.load(config_file=path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("language = \n")
    with pytest.raises(ConfigFileError, match=str(path)):
        Settings.load(config_file=path)


def test_bad_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEGO_CHUNK_MAX_TOKENS", "lots")
    with pytest.raises(ValidationError, match="chunk_max_tokens"):
        Settings.load()


def test_api_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEGO_API_KEY", "sk-test-planted-secret")
    settings = Settings.load()
    assert "sk-test-planted-secret" not in repr(settings)
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-test-planted-secret"


def test_ui_concurrency_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEGO_UI_CONCURRENCY", "8")
    assert Settings().ui_concurrency == 8
    monkeypatch.setenv("NEGO_UI_CONCURRENCY", "0")
    with pytest.raises(ValidationError, match="ui_concurrency"):
        Settings()
