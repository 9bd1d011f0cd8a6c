"""Fixtures of the browser tests; the helpers they use are in ``e2e_helpers.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import chromium_path


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium launched by Playwright (skipped without it), closed after the test."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
