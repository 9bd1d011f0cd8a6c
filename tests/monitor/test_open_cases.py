"""The sweep and the open cases on a registry (SQLite): a household in an open identification
case is in monitoring for the sweep and the audit; ``--open-cases`` opens one identification case
(channel cadre_sweep, the rule's category) per household the rules include, and a second run
opens nothing twice; every opening is in the change log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError, PermissionDeniedError
from dongxi.services import Principal, Scope
from dongxi.services import cases as case_service
from dongxi.services.imports import import_tables
from dongxi.services.monitoring import audit_monitoring, sweep_monitoring
from dongxi.store.db import make_engine, session_scope, upgrade

from .conftest import policy_file
from .test_service_registry import panel

ADMIN = Principal(name="ad", role="admin", scope=Scope.everything())


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("open-cases") / "registry.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    data = panel()
    frames = {
        "partners": data.partners,
        "helpers": data.helpers,
        "households": data.households,
        "people": data.people,
        "measures": data.measures,
        "income_months": data.income_months,
    }
    results = import_tables(principal=ADMIN, engine=engine, frames=frames, source_name="synth")
    assert all(r.ok for r in results.values())
    yield engine
    engine.dispose()


def _sweep(engine: Engine, tmp_path: Path, name: str, **kw: object) -> tuple[object, pd.DataFrame]:
    run = sweep_monitoring(
        principal=kw.pop("principal", ADMIN),  # type: ignore[arg-type]
        year=2024, out=tmp_path / name, engine=engine, policy=policy_file(tmp_path),
        as_of="2025-01-01", **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return run, pd.read_excel(run.path, dtype=str, engine="openpyxl").fillna("")


def _missed(engine: Engine, tmp_path: Path) -> set[str]:
    run = audit_monitoring(
        principal=ADMIN, year=2024, out=tmp_path / "audit.xlsx", engine=engine,
        policy=policy_file(tmp_path), as_of="2025-01-01",
    )  # fmt: skip
    table = pd.read_excel(run.path, dtype=str, engine="openpyxl").fillna("")
    return set(table[table["问题"] == "应纳未纳"]["户编号"])


def test_the_sweep_opens_cases_once_and_the_audit_sees_them(
    registry: Engine, tmp_path: Path
) -> None:
    missed = _missed(registry, tmp_path)
    plain, table = _sweep(registry, tmp_path, "plain.xlsx")
    assert plain.opened == {}  # type: ignore[attr-defined]  # off by default: it only lists
    assert "本次启动识别案件" not in table.columns
    wanted = set(table[(table["判定"] == "纳入监测") & (table["是否已纳入监测"] == "否")]["户编号"])
    assert wanted and wanted == missed
    run, table = _sweep(registry, tmp_path, "open.xlsx", open_cases=True)
    opened = dict(run.opened)  # type: ignore[attr-defined]
    assert set(opened) == wanted
    shown = table[table["本次启动识别案件"] != ""]
    assert set(shown["户编号"]) == wanted
    with session_scope(registry) as session:
        made = {c.household_code: c for c in case_service.list_cases(session, ADMIN)}
    for code, case_id in opened.items():
        case = made[code]
        assert (case.id, case.procedure, case.state, case.channel) == (
            case_id, "identification", "warning", "cadre_sweep",
        )  # fmt: skip
        first_include = table[(table["户编号"] == code) & (table["判定"] == "纳入监测")].iloc[0]
        assert case.category is not None and first_include["监测类型"] != ""
    # the open cases count as in monitoring: a second run opens nothing, the audit misses none
    again, table = _sweep(registry, tmp_path, "again.xlsx", open_cases=True)
    assert again.opened == {}  # type: ignore[attr-defined]
    assert set(table[table["户编号"].isin(wanted)]["是否已纳入监测"]) == {"是"}
    assert _missed(registry, tmp_path) == set()
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, after FROM change_log WHERE action IN ('open_batch', "
                "'monitor_sweep') ORDER BY seq"
            )
        ).all()
    batches = [json.loads(r[1]) for r in rows if r[0] == "open_batch"]
    assert [(b["channel"], b["opened"]) for b in batches] == [("cadre_sweep", len(wanted))]
    sweeps = [json.loads(r[1]) for r in rows if r[0] == "monitor_sweep"]
    assert sweeps[-2]["cases_opened"] == len(wanted) and "cases_opened" not in sweeps[-1]


def test_opening_needs_the_registry_and_the_permission(registry: Engine, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="snapshot"):
        sweep_monitoring(
            principal=ADMIN, year=2024, out=tmp_path / "s.xlsx", snapshot=tmp_path,
            open_cases=True,
        )  # fmt: skip
    auditor = Principal(name="au", role="auditor", scope=Scope.everything())
    with pytest.raises(PermissionDeniedError):
        _sweep(registry, tmp_path, "au.xlsx", principal=auditor, open_cases=True)


def test_the_command_says_what_it_opened(
    registry: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dongxi.cli import main

    url = registry.url.render_as_string(hide_password=False)
    args = ["monitor", "sweep", "--year", "2024", "--as-of", "2025-01-01", "--url", url,
            "--policy", str(policy_file(tmp_path)), "--out", str(tmp_path / "s.csv")]  # fmt: skip
    assert main([*args, "--open-cases"]) == 0
    assert "identification cases opened (cadre_sweep):" in capsys.readouterr().out
    assert main(["monitor", "sweep", "--help"]) == 0
    assert "--open-cases" in capsys.readouterr().out
