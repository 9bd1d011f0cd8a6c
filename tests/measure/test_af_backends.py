"""The same Ibis expressions give the same numbers on DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from dongxi.analytics import Backend, connect
from dongxi.measure import identify, load_spec, measure

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "src" / "dongxi" / "measure" / "data" / "example.parquet"


@pytest.fixture(scope="module")
def pg(pg_url: str) -> Iterator[Backend]:
    backend = connect(pg_url)
    yield backend
    backend.close()


@pytest.mark.postgres
def test_reference_data_identical_on_postgres(shared_dir: Path, pg: Backend) -> None:
    data = pd.read_csv(shared_dir / "data" / "mpi" / "syn_cdta.csv")
    spec = load_spec(REPO / "examples" / "syn_cdta.toml")
    duck = measure(data, spec, by=["area"], method="ibis")
    post = measure(data, spec, by=["area"], method="ibis", backend=pg)
    pd.testing.assert_frame_equal(duck, post, rtol=1e-12, atol=1e-15)


@pytest.mark.postgres
def test_person_level_rules_identical_on_postgres(pg: Backend) -> None:
    data = pd.read_parquet(EXAMPLE)
    duck = measure(data, "global_mpi", by=["county"])
    post = measure(data, "global_mpi", by=["county"], backend=pg)
    pd.testing.assert_frame_equal(duck, post, rtol=1e-12, atol=1e-15)
    hh_duck = identify(data, "global_mpi")
    hh_post = identify(data, "global_mpi", backend=pg)
    pd.testing.assert_frame_equal(hh_duck, hh_post)
