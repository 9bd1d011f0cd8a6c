"""``dongxi measure``: runs on the bundled example and files; clear errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dongxi.cli import main
from dongxi.errors import NotFoundError, SpecError
from dongxi.measure import OUTPUT_COLUMNS, builtin_specs, load_spec

REPO = Path(__file__).resolve().parents[2]


def test_example_runs_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "res.parquet"
    hh = tmp_path / "hh.csv"
    code = main(
        [
            "measure",
            "--spec",
            "global_mpi",
            "--data",
            "example",
            "--by",
            "county",
            "--k",
            "20",
            "--k",
            "33.33",
            "--out",
            str(out),
            "--households-out",
            str(hh),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "M0" in text and "451022" in text
    res = pd.read_parquet(out)
    assert list(res.columns) == OUTPUT_COLUMNS
    assert set(res["k"].dropna()) == {20.0, 33.33}
    households = pd.read_csv(hh)
    assert {"hh_id", "score", "poor_k20", "poor_k33.33"} <= set(households.columns)


def _write(tmp_path: Path, frame: pd.DataFrame) -> str:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _syn(shared_dir: Path) -> pd.DataFrame:
    return pd.read_csv(shared_dir / "data" / "mpi" / "syn_cdta.csv").head(600)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.drop(columns=["d_cm"]), "no column 'd_cm'"),
        (lambda f: f.assign(d_cm=f["d_cm"].where(f.index != 4, 2)), "row 6, column 'd_cm'"),
        (lambda f: f.assign(weight=f["weight"].where(f.index != 2, 0)), "row 4, column 'weight'"),
        (lambda f: f.assign(stratum=f["stratum"].where(f.index != 0, 99999)), "two strata"),
    ],
)
def test_bad_data_errors(
    shared_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: object,
    expected: str,
) -> None:
    frame = change(_syn(shared_dir))  # type: ignore[operator]
    code = main(
        [
            "measure",
            "--spec",
            str(REPO / "examples" / "syn_cdta.toml"),
            "--data",
            _write(tmp_path, frame),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert "Traceback" not in err


def test_k_outside_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", "--spec", "global_mpi", "--data", "example", "--k", "0"]) == 2
    assert "(0, 100]" in capsys.readouterr().err


def test_unknown_spec_and_bad_spec(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="global_mpi"):
        load_spec("no_such_spec")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\nk = [33]\n[[dimensions]]\nname = "a"\n'
        '[[dimensions.indicators]]\nname = "i"\ncolumn = "c"\nweigth = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_spec(bad)
    assert info.value.file == str(bad)
    assert info.value.column == "dimensions[0].indicators[0].weigth"
    bad.write_text('name = "x"\nk = [33\n', encoding="utf-8")
    with pytest.raises(SpecError, match="TOML"):
        load_spec(bad)


def test_builtins_load() -> None:
    assert "global_mpi" in builtin_specs()
    for name in builtin_specs():
        spec = load_spec(name)
        assert abs(sum(spec.weights()) - 1.0) < 1e-12
    gm = load_spec("global_mpi")
    assert len(gm.dimensions) == 3 and len(gm.indicators) == 10
    assert [float(w) for w in gm.exact_weights()][:4] == [1 / 6] * 4
