"""dongxi.analytics: URLs, capability flags, translated errors."""

from __future__ import annotations

import pandas as pd
import pytest

from dongxi.analytics import connect
from dongxi.errors import BackendError, ConfigError


def test_duckdb_default_runs_expressions() -> None:
    engine = connect()
    assert engine.capabilities.in_memory
    table = engine.table(pd.DataFrame({"a": [1, 2, 2]}), name="t")
    out = engine.execute(table.group_by("a").aggregate(n=table.count()).order_by("a"))
    assert out["n"].tolist() == [1, 2]
    engine.close()


def test_unknown_scheme_and_bad_query() -> None:
    with pytest.raises(ConfigError, match="duckdb://"):
        connect("mysql://x")
    engine = connect("duckdb://")
    table = engine.table(pd.DataFrame({"a": ["x"]}), name="t")
    with pytest.raises(BackendError, match="failed"):
        engine.execute(table.select(b=table["a"].cast("int64")))
    engine.close()


def test_unreachable_server_is_translated() -> None:
    with pytest.raises(BackendError, match="Could not connect") as info:
        connect("postgresql://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in str(info.value)


@pytest.mark.postgres
def test_postgres_from_sqlalchemy_url(pg_url: str) -> None:
    engine = connect(pg_url)
    assert not engine.capabilities.in_memory
    table = engine.table(pd.DataFrame({"a": [1.5, 2.5]}), name="t")
    assert float(engine.execute(table.aggregate(s=table["a"].sum()))["s"].iloc[0]) == 4.0
    engine.close()
