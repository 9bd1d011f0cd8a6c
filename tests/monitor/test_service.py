"""The use cases: permissions, scope, the monitoring line from policy data or --policy, the
cadre's table (Chinese headers, names of places, no names from snapshots), audits."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dongxi.errors import InputError, NotFoundError, PermissionDeniedError
from dongxi.services import Principal, Scope
from dongxi.services.monitoring import (
    MonitorRun,
    audit_monitoring,
    default_as_of,
    sweep_monitoring,
)

from .conftest import V1, policy_file
from .frames import household
from .snapshot_folder import write_snapshot

AS_OF = dt.date(2025, 3, 10)


def _on_snapshot(
    use: Callable[..., MonitorRun],
    principal: Principal,
    tmp_path: Path,
    snapshot: Path,
    out: str = "s.csv",
    **options: Any,
) -> MonitorRun:
    """``use`` (the sweep or the audit) of 2024 on ``snapshot`` into ``tmp_path / out``, with the
    test's policy file and as of :data:`AS_OF` unless ``options`` say otherwise."""
    options.setdefault("as_of", AS_OF)
    if "policy" not in options:
        options["policy"] = policy_file(tmp_path)
    return use(principal=principal, year=2024, out=tmp_path / out, snapshot=snapshot, **options)


def _read(path: Path, sheet: str | int = 0) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl").fillna("")


def test_sweep_of_a_snapshot(tmp_path: Path, snapshot: Path) -> None:
    analyst = Principal(name="a", role="analyst", scope=Scope.everything())
    run = _on_snapshot(sweep_monitoring, analyst, tmp_path, snapshot, "sweep.xlsx", region="450123")
    assert run.window == "2024-03..2025-02"
    assert run.line == 6000.0
    assert run.head_names is False
    table = _read(run.path)
    assert list(table.columns[:5]) == ["县", "乡镇", "村", "户编号", "判定"]
    assert "户主姓名" not in table.columns
    assert set(table["县"]) == {"隆安县"}
    assert "城厢镇" in set(table["乡镇"])
    rows = {(r["户编号"], r["规则"], r["判定"]) for _, r in table.iterrows()}
    assert ("A", "收入低于监测线", "纳入监测") in rows
    assert ("B", "唯一住房不安全", "纳入监测") in rows
    assert ("D", "收入低于监测线", "无法判断") in rows
    a = table[table["户编号"] == "A"].iloc[0]
    assert a["监测类型"] == "脱贫不稳定户"
    assert a["理由"] == "人均纯收入 5,400 元 < 监测线 6,000 元（2024-03..2025-02）；2019 年已脱贫"
    assert a["帮扶方式建议"].startswith("开发式帮扶")
    assert a["是否已纳入监测"] == "否"
    assert run.counts["include"] == 2
    focus = _read(run.path, "重点人群")
    assert set(focus["户编号"]) == {"A", "B", "C"}
    about = _read(run.path, "说明").set_index("项目")["内容"]
    assert about["监测线（元/人·年）"] == "6,000"
    assert "摘帽不摘责任" in about["过渡期"]


def test_the_sweep_stays_in_the_callers_scope(tmp_path: Path, snapshot: Path) -> None:
    officer = Principal(name="v", role="village_officer", scope=Scope.region(V1))
    run = _on_snapshot(sweep_monitoring, officer, tmp_path, snapshot, "sweep.csv")
    table = pd.read_csv(run.path, dtype=str, encoding="utf-8-sig")
    assert set(table["户编号"]) == {"A"}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("east_partner", False), ("east_office", False), ("village_officer", True), ("auditor", True)],
)
def test_sweep_permission(tmp_path: Path, snapshot: Path, role: str, allowed: bool) -> None:
    who = Principal(name="x", role=role, scope=Scope.everything())

    def run() -> object:
        return _on_snapshot(sweep_monitoring, who, tmp_path, snapshot)

    if allowed:
        run()
    else:
        with pytest.raises(PermissionDeniedError):
            run()


def test_audit_of_a_snapshot(tmp_path: Path, snapshot: Path) -> None:
    auditor = Principal(name="au", role="auditor", scope=Scope.everything())
    run = _on_snapshot(audit_monitoring, auditor, tmp_path, snapshot, "audit.xlsx")
    table = _read(run.path)
    found = {(r["户编号"], r["问题"]) for _, r in table.iterrows()}
    assert found == {
        ("A", "应纳未纳"),
        ("B", "应纳未纳"),
        ("B", "体外循环：未识别户有帮扶措施"),
        ("C", "体外循环：监测户无帮扶措施"),
    }
    assert run.counts == {"missed": 2, "unidentified_measure": 1, "no_measure": 1}


def test_a_village_officer_may_not_audit(tmp_path: Path, snapshot: Path) -> None:
    officer = Principal(name="v", role="village_officer", scope=Scope.region(V1))
    with pytest.raises(PermissionDeniedError):
        _on_snapshot(audit_monitoring, officer, tmp_path, snapshot, "a.csv", as_of=None)


def test_a_year_without_a_line_names_the_policy_option(tmp_path: Path, snapshot: Path) -> None:
    admin = Principal(name="ad", role="admin", scope=Scope.everything())
    with pytest.raises(NotFoundError, match="--policy FILE"):
        _on_snapshot(sweep_monitoring, admin, tmp_path, snapshot, policy=None, as_of=None)
    assert not (tmp_path / "s.csv").exists()


def test_output_must_be_xlsx_or_csv(tmp_path: Path, snapshot: Path) -> None:
    admin = Principal(name="ad", role="admin", scope=Scope.everything())
    with pytest.raises(InputError, match=r"\.xlsx or \.csv"):
        _on_snapshot(sweep_monitoring, admin, tmp_path, snapshot, "s.json", as_of=None)


def test_a_snapshot_without_monthly_income(tmp_path: Path) -> None:
    folder = write_snapshot(tmp_path / "old", {"households": pd.DataFrame([household("A")])})
    manifest = folder / "manifest.json"  # a snapshot written before income_months existed
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["tables"].pop("income_months", None)
    manifest.write_text(json.dumps(data), encoding="utf-8")
    admin = Principal(name="ad", role="admin", scope=Scope.everything())
    with pytest.raises(InputError, match="income_months"):
        _on_snapshot(sweep_monitoring, admin, tmp_path, folder)


def test_the_default_date_of_the_check() -> None:
    assert default_as_of(2024, today=dt.date(2026, 11, 29)) == dt.date(2025, 1, 1)
    assert default_as_of(2026, today=dt.date(2026, 11, 29)) == dt.date(2026, 11, 29)
