"""`nego doctor`: settings, corpus, index freshness, tokenizers and a real endpoint check."""

from __future__ import annotations

from typing import Any

from openai_server import Reply, Status
from typer.testing import CliRunner

from nego.cli import app


def _env(shipped_index: Any, **extra: str) -> dict[str, str]:
    settings, _, _ = shipped_index
    return {"NEGO_HOME": str(settings.home), **extra}


def test_doctor_offline_is_healthy(shipped_index: Any) -> None:
    result = CliRunner().invoke(app, ["doctor"], env=_env(shipped_index))
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "index: 245 documents" in result.output or "index:" in result.output


def test_doctor_tests_the_endpoint(shipped_index: Any, openai_server: Any) -> None:
    env = _env(
        shipped_index,
        NEGO_PROVIDER="custom",
        NEGO_MODEL="test-model",
        NEGO_BASE_URL=openai_server.base_url,
        NEGO_API_KEY="sk-planted-doctor-secret",
        NEGO_MAX_RETRIES="0",
    )
    openai_server.script(Reply("OK"))
    good = CliRunner().invoke(app, ["doctor"], env=env)
    assert good.exit_code == 0, good.output
    assert "test-model" in good.output
    openai_server.script(Status(500))
    bad = CliRunner().invoke(app, ["doctor"], env=env)
    assert bad.exit_code == 1
    assert "FAIL endpoint" in bad.output
    assert "sk-planted-doctor-secret" not in good.output + bad.output


def test_doctor_reports_a_stale_index(shipped_index: Any, tmp_path: Any) -> None:
    result = CliRunner().invoke(app, ["doctor"], env={"NEGO_HOME": str(tmp_path / "empty-home")})
    assert result.exit_code == 1
    assert "FAIL index" in result.output and "nego index" in result.output
