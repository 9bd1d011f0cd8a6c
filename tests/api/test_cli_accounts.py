"""``dongxi user``, ``dongxi token`` and ``dongxi serve`` from the command line, end to end."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dongxi.cli import app
from dongxi.store.db import upgrade

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli-accounts") / "registry.db"
    registry = f"sqlite:///{path}"
    upgrade(registry, load_reference=False)
    return registry


def test_user_add_list_token_disable(url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            "li.county",
            "--role",
            "county_officer",
            "--region",
            "450123",
            "--password-stdin",
            "--url",
            url,
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "role county_officer, scope 450123" in added.output
    assert PASSWORD not in added.output
    listed = runner.invoke(app, ["user", "list", "--url", url])
    assert "li.county" in listed.output and "active" in listed.output
    token = runner.invoke(app, ["token", "create", "li.county", "--url", url])
    assert token.exit_code == 0
    lines = token.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dxt_")
    revoked = runner.invoke(app, ["token", "revoke", "li.county", "--url", url])
    assert "1 token(s) of li.county revoked" in revoked.output
    disabled = runner.invoke(app, ["user", "disable", "li.county", "--url", url])
    assert disabled.exit_code == 0
    assert "disabled" in runner.invoke(app, ["user", "list", "--url", url]).output


def test_bad_role_is_one_clear_message(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dongxi.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code = main(["user", "add", "x", "--role", "emperor", "--password-stdin", "--url", url])
    assert code == 2
    message = capsys.readouterr().err
    assert "Unknown role" in message
    assert "Traceback" not in message


def test_user_add_on_an_old_registry_says_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dongxi.cli import main

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["user", "list", "--url", empty]) == 2
    assert "dongxi db upgrade" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_on_loopback(url: str) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dongxi", "serve", "--url", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert body is not None, "dongxi serve did not answer within 60 s"
        assert '"status":"ready"' in body.replace(" ", "")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_audit_verify_reports_an_intact_log_then_a_broken_one(url: str, tmp_path: Path) -> None:
    import shutil

    import sqlalchemy as sa

    runner = CliRunner()
    intact = runner.invoke(app, ["audit", "verify", "--url", url])
    assert intact.exit_code == 0, intact.output
    assert "audit log intact" in intact.output
    # a copy of the registry whose second entry is altered behind the triggers' back
    copy = tmp_path / "tampered.db"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    engine = sa.create_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        for (name,) in conn.execute(
            sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).all():
            conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
        seq = conn.execute(sa.text("SELECT min(seq) FROM change_log")).scalar_one()
        conn.execute(sa.text("UPDATE change_log SET actor = 'mallory' WHERE seq = :s"), {"s": seq})
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--url", f"sqlite:///{copy}"])
    assert broken.exit_code == 1
    assert f"audit log broken at entry {seq} (position 1)" in broken.output
