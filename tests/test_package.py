"""The package's public surface, settings documentation and code quality gates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dongxi
from dongxi.settings import PLACEHOLDER_KEY, Settings, settings_markdown

REPO = Path(__file__).resolve().parents[1]


def test_exports_are_pinned() -> None:
    assert sorted(dongxi.__all__) == [
        "ConfigError",
        "ConflictError",
        "DongxiError",
        "InputError",
        "NotFoundError",
        "SpecError",
        "__version__",
    ]


def test_settings_doc_is_current() -> None:
    assert (REPO / "docs" / "settings.md").read_text(encoding="utf-8") == settings_markdown()


def test_every_setting_is_described() -> None:
    for name, info in Settings.model_fields.items():
        assert info.description, f"setting {name} has no description"


def test_placeholder_keys_refused_in_production() -> None:
    settings = Settings(environment="production")
    with pytest.raises(dongxi.ConfigError, match="DONGXI_ENCRYPTION_KEY"):
        settings.check_secrets()
    ok = Settings(environment="production", encryption_key="x" * 40, lookup_key="y" * 40)
    ok.check_secrets()
    Settings(environment="development", encryption_key=PLACEHOLDER_KEY).check_secrets()


def test_ruff_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "src"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
