"""Use case and command ``dongxi monitor score``: a registry or a snapshot in, a list with Chinese
headers out, rows of the principal's scope only, the note that the rules decide inclusion."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from dongxi.errors import NotFoundError, PermissionDeniedError
from dongxi.services import Principal, Scope
from dongxi.services.imports import import_tables
from dongxi.services.risk import HEADERS, score_risk
from dongxi.services.snapshots import take_snapshot
from dongxi.synth import SynthData, generate

YEARS = tuple(range(2018, 2024))
LINES = {y: (4000.0 if y <= 2020 else 6000.0 * 1.05 ** (y - 2021)) for y in YEARS}


@cache
def data() -> SynthData:
    return generate(households=300, seed=21, years=YEARS)


def _load(engine: Engine, admin: Principal) -> None:
    d = data()
    results = import_tables(
        principal=admin,
        engine=engine,
        frames={
            "partners": d.partners,
            "helpers": d.helpers,
            "households": d.households,
            "people": d.people,
            "income": d.income,
            "measures": d.measures,
        },
        source_name="synth-risk",
    )
    assert all(r.ok for r in results.values()), {k: r.errors[:2] for k, r in results.items()}


def test_the_registry_is_scored_with_chinese_headers(
    registry: Engine, admin: Principal, tmp_path: Path
) -> None:
    _load(registry, admin)
    outcome = score_risk(
        principal=admin, year=2023, out=tmp_path / "r.csv", engine=registry, lines=LINES
    )
    table = pd.read_csv(tmp_path / "r.csv", dtype=str)
    assert list(table.columns) == list(HEADERS.values())
    assert len(table) == outcome.households == 300
    assert table["用途说明"].str.contains("不决定纳入或排除").all()
    assert table["主要原因"].str.contains(r"[\u4e00-\u9fff]").all()
    assert table["村"].iloc[0] and not table["村"].iloc[0].isdigit()  # a name, not a code
    prob = table["风险概率"].astype(float)
    assert prob.is_monotonic_decreasing and prob.between(0, 1).all()
    assert (table["优先排查（前10%）"] == "是").sum() == 30
    assert outcome.train_years[-1] == 2021 and outcome.calibration_year == 2022


def test_a_snapshot_gives_the_same_list_and_scope_keeps_its_rows(
    registry: Engine, admin: Principal, tmp_path: Path
) -> None:
    _load(registry, admin)
    folder = take_snapshot(principal=admin, folder=tmp_path / "snap", engine=registry).folder
    from_registry = score_risk(principal=admin, year=2023, engine=registry, lines=LINES)
    from_snapshot = score_risk(
        principal=admin, year=2023, snapshot=folder, lines=LINES, out=tmp_path / "r.xlsx"
    )
    pd.testing.assert_frame_equal(from_snapshot.table, from_registry.table)
    sheets = pd.read_excel(tmp_path / "r.xlsx", sheet_name=None, dtype=str, engine="openpyxl")
    assert list(sheets) == ["风险评分", "说明"]
    assert "规则认定" in sheets["说明"].to_string()
    county = str(data().households["village_code"].iloc[0])[:6]
    officer = Principal(name="w", role="county_officer", scope=Scope.region(county))
    mine = score_risk(principal=officer, year=2023, snapshot=folder, lines=LINES)
    assert len(mine.table) == (data().households["village_code"].str[:6] == county).sum()
    assert mine.table["村代码"].str.startswith(county).all()


def test_scoring_needs_read_permission(registry: Engine) -> None:
    with pytest.raises(PermissionDeniedError, match="registry:read"):
        score_risk(principal=Principal(name="p", role="east_partner"), year=2023, engine=registry)


def test_a_year_without_a_line_names_the_policy_option(registry: Engine, admin: Principal) -> None:
    _load(registry, admin)
    with pytest.raises(NotFoundError) as err:
        score_risk(principal=admin, year=2023, engine=registry)
    assert "--policy" in str(err.value.fix)


def test_the_command_writes_the_list(registry: Engine, admin: Principal, tmp_path: Path) -> None:
    from dongxi.cli.score import register_monitor

    _load(registry, admin)
    folder = take_snapshot(principal=admin, folder=tmp_path / "snap", engine=registry).folder
    policy = tmp_path / "lines.csv"
    pd.DataFrame(
        {
            "name": "monitoring_line",
            "scope": "national",
            "value": [LINES[y] for y in YEARS if y > 2021],
            "unit": "yuan per person per year",
            "year": [y for y in YEARS if y > 2021],
            "source": "test assumption",
        }
    ).to_csv(policy, index=False)
    app = typer.Typer()
    monitor = typer.Typer()
    register_monitor(monitor)
    app.add_typer(monitor, name="monitor")
    out = tmp_path / "score.csv"
    args = ["monitor", "score", "--year", "2023", "--snapshot", str(folder)]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert "规则" in result.output and "300" in result.output
    assert len(pd.read_csv(out)) == 300


def test_the_months_of_the_registry_are_used(
    registry: Engine, admin: Principal, tmp_path: Path
) -> None:
    d = generate(households=300, seed=22, years=range(2017, 2021), through=2023)
    results = import_tables(
        principal=admin,
        engine=registry,
        frames={
            "partners": d.partners,
            "helpers": d.helpers,
            "households": d.households,
            "people": d.people,
            "income": d.income,
            "income_months": d.income_months,
        },
        source_name="synth-months",
    )
    assert all(r.ok for r in results.values()), {k: r.errors[:2] for k, r in results.items()}
    lines = {int(y): float(v) for y, v in zip(d.relapse["year"], d.relapse["line"], strict=True)}
    lines |= {y: 4000.0 for y in range(2017, 2021)}
    out = tmp_path / "r.xlsx"
    score_risk(principal=admin, year=2023, engine=registry, lines=lines, out=out)
    about = pd.read_excel(out, sheet_name="说明", dtype=str, engine="openpyxl").to_string()
    assert "月收入低于监测线的月数占比" in about and "人均医疗自付支出" in about


def test_open_cases_for_the_top_households_once(
    registry: Engine, admin: Principal, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    from dongxi.errors import InputError
    from dongxi.services import cases as case_service
    from dongxi.store.db import session_scope

    _load(registry, admin)
    outcome = score_risk(principal=admin, year=2023, engine=registry, lines=LINES, open_cases=5)
    ranked = outcome.table.sort_values("排序")
    top = ranked["户编码"].head(5).astype(str).tolist()
    monitored = set(data().households.query("status == 'monitored'")["household_code"].astype(str))
    assert set(outcome.opened) == set(top) - monitored and outcome.opened
    with session_scope(registry) as session:
        opened = [
            c for c in case_service.list_cases(session, admin) if c.household_code in outcome.opened
        ]
    # the score decides nothing: a warning, no category, the channel and the rank as the source
    assert {(c.procedure, c.state, c.channel, c.category) for c in opened} == {
        ("identification", "warning", "risk_score", None)
    }
    again = score_risk(principal=admin, year=2023, engine=registry, lines=LINES, open_cases=5)
    assert again.opened == {}  # a second run opens nothing twice
    with registry.connect() as conn:
        batches = conn.execute(
            sa.text("SELECT after FROM change_log WHERE action = 'open_batch' ORDER BY seq")
        ).all()
    assert len(batches) == 2
    with pytest.raises(InputError, match="snapshot"):
        score_risk(principal=admin, year=2023, snapshot=tmp_path, lines=LINES, open_cases=5)
    with pytest.raises(PermissionDeniedError):  # an auditor reads, but opens nothing
        score_risk(
            principal=Principal(name="a", role="auditor"), year=2023, engine=registry,
            lines=LINES, open_cases=5,
        )  # fmt: skip
