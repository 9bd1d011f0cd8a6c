"""``dongxi monitor sweep`` and ``dongxi monitor audit`` on a snapshot folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dongxi.cli import main

from .conftest import policy_file


def test_sweep_and_audit_commands(
    tmp_path: Path, snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(tmp_path)
    out = tmp_path / "sweep.csv"
    code = main(
        [
            "monitor",
            "sweep",
            "--year",
            "2024",
            "--as-of",
            "2025-03-10",
            "--snapshot",
            str(snapshot),
            "--policy",
            str(policy),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "income 2024-03..2025-02, monitoring line 6,000 yuan" in printed
    assert "纳入监测 (include in monitoring): 2" in printed
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert {"县", "村", "户编号", "监测类型", "理由"} <= set(table.columns)
    code = main(
        [
            "monitor",
            "audit",
            "--year",
            "2024",
            "--as-of",
            "2025-03-10",
            "--snapshot",
            str(snapshot),
            "--policy",
            str(policy),
            "--out",
            str(tmp_path / "audit.xlsx"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "应纳未纳 (should be monitored but is not): 2" in printed


def test_a_bad_date_is_a_clear_error(
    tmp_path: Path, snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "monitor",
            "sweep",
            "--year",
            "2024",
            "--as-of",
            "10/03/2025",
            "--snapshot",
            str(snapshot),
            "--out",
            str(tmp_path / "s.csv"),
        ]
    )
    assert code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
