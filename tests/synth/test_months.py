"""The monthly panel after 2020 (``generate(through=...)``): contract columns, consistency of the
months with the yearly rows, the shocks' effects, the years up to 2020 unchanged, the relapse
rate within its documented band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synth_invariants import check_domains, check_tables
from typer.testing import CliRunner

from dongxi.cli import app, main
from dongxi.errors import InputError
from dongxi.intake.columns import TABLE_KINDS
from dongxi.intake.validate import RegistryView, validate_frame
from dongxi.synth import SHOCK_KINDS, SynthData, generate, write_files
from dongxi.synth._stats import monitoring_line
from dongxi.tables import read_table

SHOCK_COLUMNS = ["household_code", "month", "kind", "size"]


@pytest.fixture(scope="module")
def panel() -> SynthData:
    return generate(households=4_000, seed=7, years=(2019, 2020), through=2025)


def test_income_months_as_in_the_contract(panel: SynthData) -> None:
    months = panel.income_months
    assert months is not None and panel.shocks is not None
    assert list(months.columns) == list(TABLE_KINDS["income_months"].headers)
    assert len(months) == len(panel.households) * 60
    assert not months.duplicated(["household_code", "month"]).any()
    assert months["month"].min() == "2021-01" and months["month"].max() == "2025-12"
    assert months["month"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all()
    keys = list(zip(months["household_code"], months["month"], strict=True))
    assert keys == sorted(keys)
    assert (months[["medical_spending", "schooling_spending", "disaster_loss"]] >= 0).all().all()
    assert (months["household_size"] >= 1).all()
    assert (months["net_income"] < 0).any()  # a month of costs and losses can be negative
    view = RegistryView(households=frozenset(panel.households["household_code"]))
    result = validate_frame(months.head(50_000), kind="income_months", registry=view)
    assert result.errors == []
    assert list(panel.shocks.columns) == SHOCK_COLUMNS
    assert set(panel.shocks["kind"]) == set(SHOCK_KINDS)
    assert (panel.shocks["size"] > 0).all()


def test_yearly_rows_add_up_the_months(panel: SynthData) -> None:
    months = panel.income_months
    assert months is not None
    summed = (
        months.assign(year=months["month"].str.slice(0, 4).astype(int))
        .groupby(["household_code", "year"])
        .agg(net=("net_income", "sum"), size=("household_size", "mean"))
    )
    income = panel.income[panel.income["year"] >= 2021].set_index(["household_code", "year"])
    income = income.loc[summed.index]
    total = income["net_income_per_capita"] * income["household_size"]
    assert np.allclose(total, summed["net"], atol=0.02 * income["household_size"].max())
    assert (income["household_size"] == summed["size"]).all()
    for year in range(2021, 2026):
        r = panel.rounds[year]
        check_tables(r.households, r.people, r.income, vintage=panel.vintage)
        check_domains({**panel.tables(), "households": r.households, "people": r.people})
        sizes = r.people.groupby("household_code").size()
        assert (r.income.set_index("household_code")["household_size"] == sizes).all()


def test_years_up_to_2020_are_unchanged() -> None:
    plain = generate(households=600, seed=3, years=(2019, 2020))
    longer = generate(households=600, seed=3, years=(2019, 2020), through=2022)
    for year in (2019, 2020):
        for name in ("households", "people", "income"):
            pd.testing.assert_frame_equal(
                getattr(plain.rounds[year], name), getattr(longer.rounds[year], name)
            )
    pd.testing.assert_frame_equal(
        plain.income, longer.income[longer.income["year"] <= 2020].reset_index(drop=True)
    )
    for name in ("measures", "partners", "helpers"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(longer, name))
    early = longer.household_status[longer.household_status["effective_date"] <= "2020-12-31"]
    pd.testing.assert_frame_equal(plain.household_status, early.reset_index(drop=True))
    assert longer.years == (2019, 2020, 2021, 2022)
    assert plain.income_months is None and plain.shocks is None


def test_same_seed_same_panel() -> None:
    a = generate(households=300, seed=9, years=(2020,), through=2022)
    b = generate(households=300, seed=9, years=(2020,), through=2022)
    assert a.income_months is not None and b.income_months is not None
    pd.testing.assert_frame_equal(a.income_months, b.income_months)
    pd.testing.assert_frame_equal(a.shocks, b.shocks)  # type: ignore[arg-type]
    c = generate(households=300, seed=10, years=(2020,), through=2022)
    assert not a.income_months["net_income"].equals(c.income_months["net_income"])  # type: ignore[union-attr]


def test_shocks_show_in_the_months(panel: SynthData) -> None:
    months = panel.income_months
    shocks = panel.shocks
    assert months is not None and shocks is not None
    cells = months.set_index(["household_code", "month"])
    for kind, column in (
        ("illness", "medical_spending"),
        ("disability", "medical_spending"),
        ("disaster", "disaster_loss"),
        ("house_damage", "disaster_loss"),
        ("schooling", "schooling_spending"),
    ):
        rows = shocks[shocks["kind"] == kind]
        at = cells.loc[list(zip(rows["household_code"], rows["month"], strict=True)), column]
        assert (at > 0).all(), kind
    # a job loss cuts the month's income against the same month a year before
    lost = shocks[(shocks["kind"] == "job_loss") & (shocks["month"] >= "2022-03")]
    before = lost["month"].str.slice(0, 4).astype(int).sub(1).astype(str) + lost["month"].str[4:]
    now = cells.loc[list(zip(lost["household_code"], lost["month"], strict=True)), "net_income"]
    then = cells.loc[list(zip(lost["household_code"], before, strict=True)), "net_income"]
    assert np.median(now.to_numpy() - then.to_numpy()) < -500


def test_relapse_rate_within_the_documented_band(panel: SynthData) -> None:
    relapse = panel.relapse
    assert relapse is not None and list(relapse["year"]) == [2021, 2022, 2023, 2024, 2025]
    share = relapse["eligible"] / relapse["households"]
    assert share.between(0.015, 0.08).all(), share.tolist()
    below = relapse["below_line"] / relapse["households"]
    assert below.between(0.005, 0.05).all(), below.tolist()
    assert list(relapse["line"]) == [monitoring_line(y) for y in range(2021, 2026)]
    r = panel.rounds[2025].households
    monitored = r["status"] == "monitored"
    assert monitored.sum() == relapse["monitored"].iloc[-1]
    assert set(r.loc[monitored, "monitoring_category"]) == {
        "unstable_escaped",
        "marginal",
        "sudden_hardship",
    }


def test_disasters_differ_by_county() -> None:
    data = generate(households=6_000, seed=4, years=(2020,), through=2024)
    shocks = data.shocks
    assert shocks is not None
    hit = shocks[shocks["kind"] == "disaster"]
    per_county = hit.groupby(hit["household_code"].str.slice(0, 6)).size()
    households = data.households.groupby("county_code").size()
    rate = (per_county.reindex(households.index, fill_value=0) / households).to_numpy()
    assert rate.max() > 3 * max(rate.min(), 1e-9)


def test_through_is_checked() -> None:
    with pytest.raises(InputError, match="2021"):
        generate(households=10, through=2020)
    with pytest.raises(InputError, match="end by 2020"):
        generate(households=10, years=(2020, 2021), through=2025)


def test_files_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = generate(households=80, seed=2, years=(2020,), through=2022)
    paths = write_files(data, tmp_path / "all", fmt="csv", headers="zh")
    assert {"income_months", "shocks"} <= set(paths)
    months = read_table(paths["income_months"], as_text=True)
    assert list(months.columns) == list(TABLE_KINDS["income_months"].headers.values())
    assert len(months) == 80 * 24
    shocks = read_table(paths["shocks"], as_text=True)
    assert list(shocks.columns) == SHOCK_COLUMNS
    one = write_files(data, tmp_path / "2021", fmt="csv", headers="en", year=2021)
    year = read_table(one["income_months"], as_text=True)
    assert set(year["month"].str.slice(0, 4)) == {"2021"} and len(year) == 80 * 12
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app, ["synth", "-n", "50", "--years", "2020", "--through", "2021", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "income_months.csv").exists() and (out / "shocks.csv").exists()
    assert (out / "2021" / "income_months.csv").exists()
    status = main(["synth", "-n", "5", "--through", "2019", "--out", str(tmp_path / "bad")])
    assert status == 2
    assert "--through" in capsys.readouterr().err
