"""What every browser test shares: Debian's chromium, a registry served by `dongxi serve` on a free
port, logging in with the keyboard, screenshots at two widths, axe-core's findings and the checks of
a page's layout on a phone.

The tests import these by name (``from e2e_helpers import ...``); the ``browser`` fixture in
``conftest.py`` launches chromium with them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from dongxi.services.principal import Principal
from dongxi.store.db import make_engine, upgrade
from dongxi.web import STATIC_DIR

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "build" / "e2e-screenshots"
AXE = STATIC_DIR / "vendor" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
PASSWORD = "e2e password 2026"
#: The narrowest a table cell may be on a phone (px): about three characters at the phone's size,
#: so that no column is squeezed to a character a line.
MIN_CELL = 48
ADMIN = Principal(name="e2e-admin", role="admin")


def chromium_path() -> str:
    """Debian's chromium; the test is skipped without it (it fails under CI=true)."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing under CI=true (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_registry(folder: Path) -> tuple[str, Engine]:
    """An empty SQLite registry (all migrations applied) in ``folder``: its URL and an engine."""
    url = f"sqlite:///{folder / 'registry.db'}"
    upgrade(url)
    return url, make_engine(url)


def synth_frames(data: Any, year: int, *, partners: bool = True) -> dict[str, Any]:
    """The tables of a `dongxi.synth.generate` result to import for one year."""
    state = data.rounds[year]
    frames = {"helpers": data.helpers}
    if partners:
        frames["partners"] = data.partners
    return {
        **frames,
        "households": state.households,
        "people": state.people,
        "income": state.income,
    }


@contextmanager
def serve(url: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`dongxi serve` on the registry at ``url`` on a free port, ready; yields its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dongxi", "serve", "--url", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=None if env is None else dict(env),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("dongxi serve did not become ready within 60 s")
    try:
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()  # not left running into the next test; the error stands
            server.wait()
            raise


def new_page(browser: Any, viewport: Mapping[str, int] = DESKTOP, **options: Any) -> Any:
    """A page in a fresh context (its own cookies) in Chinese at ``viewport``."""
    # bypass_csp: only so that the test can inject axe-core; the pages themselves run none
    context = browser.new_context(
        viewport=dict(viewport), bypass_csp=True, locale="zh-CN", **options
    )
    return context.new_page()


def log_in(page: Any, base: str, username: str, *, lands: str | None = None) -> None:
    """Log in as ``username`` (password ``PASSWORD``) on ``/login`` with the keyboard alone: focus
    the user name, type, Tab to the password, Enter to submit. With ``lands``, the path the login
    must lead to."""
    page.goto(f"{base}/login")
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation(**({} if lands is None else {"url": f"{base}{lands}"})):
        page.keyboard.press("Enter")


def logged_in_page(
    browser: Any, base: str, username: str, viewport: Mapping[str, int] = DESKTOP, **options: Any
) -> Any:
    """A page in a fresh context logged in as ``username`` (with the keyboard), at
    ``/households``."""
    page = new_page(browser, viewport, **options)
    log_in(page, base, username, lands="/households")
    return page


def poll(page: Any, done: Callable[[], bool], *, timeout: float = 90, what: str = "") -> None:
    """Until ``done()``, reloading the page each second (as a reader without JavaScript would).
    The page may reload itself meanwhile (htmx, or its own refresh): a check or a reload cut
    short by that is tried again; an AssertionError in ``done`` fails at once."""
    from playwright.sync_api import Error

    url = page.url
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if done():
                return
        except Error:  # the page was being reloaded
            pass
        time.sleep(1)
        try:
            page.goto(url, wait_until="domcontentloaded")
        except Error:
            continue
    raise AssertionError(f"{what} not within {timeout:.0f} s: {page.inner_text('main')[:500]}")


def wait_for_text(page: Any, text: str, timeout: float = 90) -> None:
    """Until ``text`` is in the page's main part (see :func:`poll`)."""
    poll(
        page,
        lambda: text in page.inner_text("main", timeout=5000),
        timeout=timeout,
        what=repr(text),
    )


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page (vendored axe-core, injected)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


_LAYOUT = """min => {
  if (matchMedia('print').matches) return [];  // paper, not a phone's screen
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    problems.push(`the page is ${doc.scrollWidth} px wide in a ${window.innerWidth} px window`);
  }
  for (const cell of document.querySelectorAll('td, th')) {
    const box = cell.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= 0) continue;  // not shown
    const text = cell.innerText.trim().replace(/\\s+/g, ' ').slice(0, 16);
    if (box.width < min) {
      problems.push(`cell "${text}" is ${Math.round(box.width)} px wide`);
    } else if (cell.scrollWidth > cell.clientWidth + 1) {
      problems.push(`cell "${text}" spills over its edge`);
    }
  }
  return problems;
}"""


def phone_layout_problems(page: Any) -> list[str]:
    """What is wrong with the page's layout at its present (phone) width: the page wider than the
    window (a reader must pan the whole page), a table cell narrower than ``MIN_CELL`` (a column
    squeezed, its words broken a character a line) or a cell whose content spills over its edge.
    Cells not shown (a card list's hidden head) are skipped, and so is a page emulating print (its
    layout is the paper's). The first 8 problems, then a count."""
    problems: list[str] = list(dict.fromkeys(page.evaluate(_LAYOUT, MIN_CELL)))
    if len(problems) > 8:
        problems = [*problems[:8], f"... and {len(problems) - 8} more"]
    return problems


class Findings:
    """Screenshots (``build/e2e-screenshots/{prefix}{name}-{size}.png``), axe-core's findings and,
    at phone width, the layout's problems (:func:`phone_layout_problems`), page by page;
    ``assert_clean`` at the end of the test."""

    def __init__(self, prefix: str = "") -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.problems: dict[str, list[str]] = {}

    def check(self, page: Any, name: str) -> None:
        self.problems[name] = axe_violations(page)

    def shoot(self, page: Any, name: str, size: str) -> None:
        if size == "phone":
            self.problems[f"{name} (phone layout)"] = phone_layout_problems(page)
        page.screenshot(path=str(SHOTS / f"{self.prefix}{name}-{size}.png"), full_page=True)

    def take(self, page: Any, name: str, size: str) -> None:
        """axe-core on the page, then its screenshot at ``size``."""
        self.check(page, name)
        self.shoot(page, name, size)

    def take_both(self, page: Any, name: str) -> None:
        """axe-core on the page, then screenshots at both widths (the page is left at desktop)."""
        self.check(page, name)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            self.shoot(page, name, size)
        page.set_viewport_size(DESKTOP)

    def assert_clean(self) -> None:
        found = {k: v for k, v in self.problems.items() if v}
        assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
