"""DONGXI_LOG_LEVEL sets the command line's logging level; --debug overrides it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from dongxi.cli import main
from dongxi.settings import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    logger = logging.getLogger("dongxi")
    level = logger.level
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    logger.setLevel(level)


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        (None, [], logging.WARNING),
        ("INFO", [], logging.INFO),
        ("ERROR", [], logging.ERROR),
        ("ERROR", ["--debug"], logging.DEBUG),
    ],
)
def test_level_comes_from_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str | None, args: list[str], expected: int
) -> None:
    if env is None:
        monkeypatch.delenv("DONGXI_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("DONGXI_LOG_LEVEL", env)
    assert main([*args, "policy", "list", "--name", "poverty_line"]) == 0
    assert logging.getLogger("dongxi").level == expected


def test_invalid_level_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DONGXI_LOG_LEVEL", "LOUD")
    assert main(["policy", "list"]) == 2
    err = capsys.readouterr().err
    assert "DONGXI_LOG_LEVEL is invalid" in err
    assert "docs/settings.md" in err
