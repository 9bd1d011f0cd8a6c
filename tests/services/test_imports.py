"""Use case: import files into the registry as a principal (permission, actor, report)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.errors import InputError, PermissionDeniedError
from dongxi.services import Principal, Scope
from dongxi.services.imports import REPORT_COLUMNS, import_file
from dongxi.synth import write_files

from .conftest import panel
from .helpers import log_entries

ORDER = ("partners", "helpers", "households", "people", "income")


def _files(folder: Path) -> dict[str, Path]:
    write_files(panel(), folder, fmt="csv", headers="zh", year=2016)
    return {kind: folder / f"{kind}.csv" for kind in ORDER}


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_import_files_logs_the_principal(registry: Engine, tmp_path: Path) -> None:
    clerk = Principal(name="clerk-7", role="county_officer", scope=Scope.region("450000"))
    files = _files(tmp_path / "in")
    outcomes = {
        kind: import_file(principal=clerk, file=files[kind], engine=registry) for kind in ORDER
    }
    state = panel().rounds[2016]
    assert outcomes["households"].kind == "households"  # detected from the Chinese headers
    assert outcomes["households"].result.created == len(state.households)
    assert outcomes["people"].result.created == len(state.people)
    assert all(o.result.ok and o.report is None for o in outcomes.values())
    created = log_entries(registry, "create")
    assert len(created) == sum(o.result.created for o in outcomes.values())
    assert {e["actor"] for e in created} == {"clerk-7 (county_officer)"}


def test_rejected_rows_go_to_the_report_and_nothing_is_written(
    registry: Engine, tmp_path: Path, admin: Principal
) -> None:
    files = _files(tmp_path / "in")
    for kind in ("partners", "helpers"):
        import_file(principal=admin, file=files[kind], engine=registry)
    frame = pd.read_csv(files["households"], dtype=str, encoding="utf-8-sig")
    frame.loc[[0, 3], "村代码"] = "not-a-code"
    bad = tmp_path / "households_bad.csv"
    frame.to_csv(bad, index=False, encoding="utf-8-sig")
    outcome = import_file(
        principal=admin, file=bad, engine=registry, report=tmp_path / "errors.csv"
    )
    assert not outcome.result.written and outcome.result.rejected_rows == 2
    assert _count(registry, "households") == 0
    assert outcome.report == tmp_path / "errors.csv"
    report = pd.read_csv(outcome.report, dtype=str, encoding="utf-8-sig")
    assert tuple(report.columns) == REPORT_COLUMNS
    assert sorted(set(report["row"].astype(int))) == [2, 5]  # header is row 1
    assert set(report["column"]) == {"村代码", "县代码"}  # the county no longer matches


@pytest.mark.parametrize("role", ["analyst", "auditor", "east_partner"])
def test_a_role_without_import_is_refused_before_reading(
    registry: Engine, tmp_path: Path, role: str
) -> None:
    files = _files(tmp_path / "in")
    with pytest.raises(PermissionDeniedError, match="registry:import"):
        import_file(
            principal=Principal(name="x", role=role), file=files["partners"], engine=registry
        )
    assert _count(registry, "partners") == 0


def test_unknown_kind(registry: Engine, tmp_path: Path, admin: Principal) -> None:
    files = _files(tmp_path / "in")
    with pytest.raises(InputError, match="Unknown kind"):
        import_file(principal=admin, file=files["partners"], kind="villages", engine=registry)


def test_a_registry_behind_the_schema_is_refused(tmp_path: Path, admin: Principal) -> None:
    from dongxi.errors import BackendError

    files = _files(tmp_path / "in")
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(BackendError, match="dongxi db upgrade"):
        import_file(principal=admin, file=files["partners"], url=empty)
