"""Use case: exports are scoped, need their permissions, and every one is in the change log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from dongxi.errors import InputError, PermissionDeniedError
from dongxi.services import Principal, Scope
from dongxi.services.exports import export_table

from .conftest import panel
from .helpers import load_round, log_entries


@pytest.fixture
def loaded(registry: Engine, admin: Principal) -> Engine:
    load_round(registry, admin, panel(), 2016)
    return registry


def test_masked_export_is_logged_with_the_absolute_path(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, admin: Principal
) -> None:
    monkeypatch.chdir(tmp_path)
    result = export_table(principal=admin, kind="households", out=Path("hh.csv"), engine=loaded)
    assert result.rows == len(panel().rounds[2016].households) and not result.unmasked
    [entry] = log_entries(loaded, "export")
    assert entry["actor"] == "tester (admin)" and entry["entity"] == "households"
    assert entry["after"] == {
        "path": str(tmp_path.resolve() / "hh.csv"),
        "outcome": "written",
        "rows": result.rows,
        "unmasked": False,
    }
    assert log_entries(loaded, "export_unmasked") == []


def test_unmasked_export_needs_pii_reveal_and_is_logged_twice(
    loaded: Engine, tmp_path: Path
) -> None:
    officer = Principal(name="li", role="county_officer", scope=Scope.everything())
    clerk = Principal(name="wang", role="village_officer", scope=Scope.everything())
    with pytest.raises(PermissionDeniedError, match="pii:reveal"):
        export_table(
            principal=clerk, kind="people", out=tmp_path / "p.csv", unmask=True, engine=loaded
        )
    assert not (tmp_path / "p.csv").exists() and log_entries(loaded, "export") == []
    result = export_table(
        principal=officer, kind="people", out=tmp_path / "p.csv", unmask=True, engine=loaded
    )
    clear = pd.read_csv(result.path, dtype=str, encoding="utf-8-sig")
    assert not clear["身份证号"].str.contains(r"\*").any()
    [unmasked] = log_entries(loaded, "export_unmasked")
    [export] = log_entries(loaded, "export")
    assert unmasked["actor"] == export["actor"] == "li (county_officer)"
    assert export["after"]["unmasked"] is True and export["after"]["outcome"] == "written"


def test_a_failed_export_is_logged_with_the_error_class(
    loaded: Engine, tmp_path: Path, admin: Principal
) -> None:
    with pytest.raises(InputError, match="CSV or XLSX"):
        export_table(principal=admin, kind="people", out=tmp_path / "p.txt", engine=loaded)
    [entry] = log_entries(loaded, "export")
    assert entry["after"] == {
        "path": str(tmp_path.resolve() / "p.txt"),
        "outcome": "failed",
        "error": "InputError",
        "unmasked": False,
    }
    with pytest.raises(InputError, match="Unknown kind"):
        export_table(principal=admin, kind="villages", out=tmp_path / "v.csv", engine=loaded)
    assert [e["entity"] for e in log_entries(loaded, "export")] == ["people", "exports"]
    assert log_entries(loaded, "export")[-1]["after"]["outcome"] == "failed"


def test_export_writes_only_the_principal_scope(loaded: Engine, tmp_path: Path) -> None:
    """The panel lies in one village of one county: its county sees every household, another
    county none (the row-level filtering itself is tested in tests/store/test_scope_reads.py)."""
    households = panel().rounds[2016].households
    county = str(households["village_code"].iloc[0])[:6]
    assert households["village_code"].astype(str).str.startswith(county).all()
    sizes = {}
    for name, scope in {"own": Scope.region(county), "other": Scope.region("440300")}.items():
        officer = Principal(name="zhao", role="county_officer", scope=scope)
        for kind in ("households", "people"):
            result = export_table(
                principal=officer, kind=kind, out=tmp_path / f"{name}-{kind}.csv", engine=loaded
            )
            sizes[name, kind] = result.rows
    assert sizes == {
        ("own", "households"): len(households),
        ("own", "people"): len(panel().rounds[2016].people),
        ("other", "households"): 0,
        ("other", "people"): 0,
    }


@pytest.mark.parametrize("role", ["analyst", "east_partner", "east_office"])
def test_a_role_without_export_is_refused(loaded: Engine, tmp_path: Path, role: str) -> None:
    with pytest.raises(PermissionDeniedError, match="registry:export"):
        export_table(
            principal=Principal(name="x", role=role),
            kind="households",
            out=tmp_path / "h.csv",
            engine=loaded,
        )
    assert not (tmp_path / "h.csv").exists()
