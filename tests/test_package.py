"""The package's public surface, settings documentation and code quality gates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dongxi
from dongxi.settings import Settings, settings_markdown

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


def test_no_key_in_the_source_and_short_keys_refused_in_production(tmp_path: Path) -> None:
    import dongxi.settings as settings_module

    assert not hasattr(settings_module, "PLACEHOLDER_KEY")
    none = Settings(
        environment="development",
        encryption_key=None,
        lookup_key=None,
        key_file=tmp_path / "absent.toml",
    )
    with pytest.raises(dongxi.ConfigError, match="dongxi db upgrade"):
        none.id_keys()
    short = Settings(environment="production", encryption_key="x" * 31, lookup_key="y" * 40)
    with pytest.raises(dongxi.ConfigError, match="encryption key is shorter than 32"):
        short.id_keys()
    ok = Settings(environment="production", encryption_key="x" * 40, lookup_key="y" * 40)
    assert (ok.id_keys().encryption, ok.id_keys().lookup) == ("x" * 40, "y" * 40)
    assert "x" * 40 not in repr(ok.id_keys())


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
