"""The use cases on a registry (SQLite): the synthetic panel through 2025 imported, the sweep
and the audit read in the caller's scope, heads' names only for a role that may see them, and a
change-log entry for every file written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import PermissionDeniedError
from dongxi.services import Principal, Scope
from dongxi.services.imports import import_tables
from dongxi.services.monitoring import MonitorRun, audit_monitoring, sweep_monitoring
from dongxi.store.db import make_engine, upgrade
from dongxi.synth import SynthData, generate

from .conftest import policy_file


@cache
def panel() -> SynthData:
    return generate(households=60, seed=5, years=(2019, 2020), through=2025)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("monitor-registry") / "registry.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    data = panel()
    admin = Principal(name="loader", role="admin", scope=Scope.everything())
    frames = {
        "partners": data.partners,
        "helpers": data.helpers,
        "households": data.households,
        "people": data.people,
        "measures": data.measures,
        "income_months": data.income_months,
    }
    results = import_tables(principal=admin, engine=engine, frames=frames, source_name="synth")
    assert all(r.ok for r in results.values()), {k: r.errors[:2] for k, r in results.items()}
    yield engine
    engine.dispose()


def _on_registry(
    use: Callable[..., MonitorRun],
    principal: Principal,
    registry: Engine,
    tmp_path: Path,
    out: str,
    **options: Any,
) -> MonitorRun:
    """``use`` (the sweep or the audit) of 2024 on ``registry`` into ``tmp_path / out``, with the
    test's policy file and as of 2025-01-01 unless ``options`` say otherwise."""
    options.setdefault("as_of", "2025-01-01")
    return use(
        principal=principal,
        year=2024,
        out=tmp_path / out,
        engine=registry,
        policy=policy_file(tmp_path),
        **options,
    )


def _log(engine: Engine, action: str) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, after FROM change_log WHERE action = :a ORDER BY seq"),
            {"a": action},
        ).all()
    return [{"actor": r[0], **json.loads(r[1])} for r in rows]


def test_sweep_on_the_registry_with_names_for_an_admin(registry: Engine, tmp_path: Path) -> None:
    admin = Principal(name="ad", role="admin", scope=Scope.everything())
    run = _on_registry(sweep_monitoring, admin, registry, tmp_path, "sweep.xlsx")
    assert run.source == "registry"
    assert run.head_names is True
    table = pd.read_excel(run.path, dtype=str, engine="openpyxl").fillna("")
    assert "户主姓名" in table.columns
    assert len(table) == run.rows > 0
    assert (table["户主姓名"] != "").all()
    assert set(table["判定"]) <= {"纳入监测", "不纳入监测", "无法判断"}
    entry = _log(registry, "monitor_sweep")[-1]
    assert entry["actor"] == "ad (admin)"
    assert entry["rows"] == run.rows and entry["head_names"] is True


def test_an_auditor_gets_no_names_an_analyst_no_registry_rows_and_an_officer_only_their_county(
    registry: Engine, tmp_path: Path
) -> None:
    analyst = Principal(name="an", role="analyst", scope=Scope.everything())
    with pytest.raises(PermissionDeniedError):
        _on_registry(sweep_monitoring, analyst, registry, tmp_path, "no.csv", as_of=None)
    auditor = Principal(name="au", role="auditor", scope=Scope.everything())
    run = _on_registry(sweep_monitoring, auditor, registry, tmp_path, "a.csv")
    everyone = pd.read_csv(run.path, dtype=str, encoding="utf-8-sig")
    assert "户主姓名" not in everyone.columns
    county = panel().households["village_code"].astype(str).str.slice(0, 6).mode()[0]
    officer = Principal(name="co", role="county_officer", scope=Scope.region(county))
    run = _on_registry(sweep_monitoring, officer, registry, tmp_path, "c.csv")
    mine = pd.read_csv(run.path, dtype=str, encoding="utf-8-sig")
    hh = panel().households.set_index("household_code")["village_code"].astype(str)
    assert set(mine["户编号"].map(hh).str.slice(0, 6)) <= {county}
    assert len(mine) <= len(everyone)


def test_audit_on_the_registry(registry: Engine, tmp_path: Path) -> None:
    auditor = Principal(name="au", role="auditor", scope=Scope.everything())
    run = _on_registry(audit_monitoring, auditor, registry, tmp_path, "audit.xlsx")
    assert run.head_names is False
    assert _log(registry, "monitor_audit")[-1]["rows"] == run.rows


def test_the_command_on_the_registry_lists_names_and_says_so(
    registry: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dongxi.cli import main

    out = tmp_path / "sweep.csv"
    url = registry.url.render_as_string(hide_password=False)
    code = main(
        [
            "monitor",
            "sweep",
            "--year",
            "2024",
            "--as-of",
            "2025-01-01",
            "--url",
            url,
            "--policy",
            str(policy_file(tmp_path)),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "heads' names are listed (local operator)" in printed
    assert "户主姓名" in pd.read_csv(out, dtype=str, encoding="utf-8-sig").columns
