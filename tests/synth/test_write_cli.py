"""write_files and ``dongxi synth``: import files that the registry's validator accepts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dongxi import regions
from dongxi.cli import app, main
from dongxi.errors import InputError
from dongxi.intake import headers as hdr
from dongxi.intake.validate import RegistryView, validate_frame
from dongxi.synth import SynthData, generate, write_files
from dongxi.tables import read_table


@pytest.fixture(scope="module")
def small() -> SynthData:
    return generate(households=300, seed=21, years=(2019, 2020, 2021))


def test_english_csv_round_trip(small: SynthData, tmp_path: Path) -> None:
    paths = write_files(small, tmp_path, fmt="csv", headers="en")
    assert set(paths) == {"partners", "helpers", "households", "people", "income", "measures"}
    for name, path in paths.items():
        back = read_table(path, as_text=True)
        frame = getattr(small, name)
        assert list(back.columns) == list(frame.columns)
        assert len(back) == len(frame)
    people = read_table(paths["people"], as_text=True)
    assert people["id_number"].tolist() == small.people["id_number"].tolist()


def test_parquet_keeps_values(small: SynthData, tmp_path: Path) -> None:
    paths = write_files(small, tmp_path, fmt="parquet", headers="en", year=2019)
    back = pd.read_parquet(paths["income"])
    pd.testing.assert_frame_equal(back, small.rounds[2019].income, check_dtype=False)


def test_chinese_files_pass_the_import_validator(small: SynthData, tmp_path: Path) -> None:
    paths = write_files(small, tmp_path, fmt="csv", headers="zh")
    div = pd.concat([regions.divisions(2017), regions.divisions(2023)])
    view = RegistryView(
        village_codes=frozenset(div.loc[div["level"] == "village", "code"]),
        region_codes=frozenset(div["code"]) | frozenset(regions.national_counties()["code"]),
        households=frozenset(small.households["household_code"]),
        helpers=frozenset(small.helpers["helper_id"]),
        partners=frozenset(small.partners["partner_code"]),
    )
    for kind in ("partners", "helpers", "households", "people", "income", "measures"):
        raw = read_table(paths[kind], as_text=True)
        assert hdr.detect_kind(list(raw.columns)) == kind
        canonical, _ = hdr.to_canonical(raw, kind)
        result = validate_frame(canonical, kind=kind, registry=view)
        assert result.errors == [], (kind, result.errors[:3])


def test_unknown_format_or_round_is_refused(small: SynthData, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="format"):
        write_files(small, tmp_path, fmt="docx")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="round"):
        write_files(small, tmp_path, year=2030)


def test_cli_writes_files_and_rounds(tmp_path: Path) -> None:
    out = tmp_path / "s"
    result = CliRunner().invoke(
        app, ["synth", "-n", "120", "--seed", "3", "--years", "2019-2020", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "people.csv").exists()
    assert (out / "2019" / "households.csv").exists()
    assert "households" in result.output
    people = read_table(out / "2019" / "people.csv", as_text=True)
    assert "身份证号" in people.columns


def test_cli_refuses_bad_years(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["synth", "-n", "10", "--years", "20x9", "--out", str(tmp_path)])
    assert status == 2
    assert "--years" in capsys.readouterr().err


def test_rounds_import_into_the_registry(tmp_path: Path) -> None:
    """The demo's path: each round imported in turn into a real (SQLite) registry."""
    from dongxi.store import make_engine, upgrade
    from dongxi.store.importer import import_frames

    data = generate(households=400, seed=8, years=(2016, 2019, 2021))
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    try:
        upgrade(engine)
        for year in data.years:
            state = data.rounds[year]
            frames = {"households": state.households, "people": state.people}
            frames["income"] = state.income
            if year == data.years[0]:
                frames = {"helpers": data.helpers, "partners": data.partners, **frames}
            if year == data.years[-1]:
                frames["measures"] = data.measures
            results = import_frames(engine, frames, actor="test", source_name=f"synth-{year}")
            assert all(r.ok for r in results.values()), {
                k: r.errors[:2] for k, r in results.items() if not r.ok
            }
    finally:
        engine.dispose()
