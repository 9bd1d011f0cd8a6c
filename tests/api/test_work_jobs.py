"""The use cases under the import and measurement pages: a checked upload (nothing written)
that is confirmed, cancelled or expires; a rejected file that cannot be confirmed; small groups
of a measurement suppressed; income against the official poverty line counted per county."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from api_fixtures import import_synth
from sqlalchemy.engine import Engine

from dongxi.errors import ConflictError, NotFoundError
from dongxi.services.aggregates import income_poverty_aggregates
from dongxi.services.imports import import_tables
from dongxi.services.jobs import JobRunner, JobView
from dongxi.services.measurement import suppress_small
from dongxi.services.principal import Principal
from dongxi.settings import Settings, use_settings
from dongxi.store.db import session_scope
from dongxi.synth import generate

ADMIN = Principal(name="work-admin", role="admin")


@pytest.fixture(scope="module")
def runner(api_registry: Engine, tmp_path_factory: pytest.TempPathFactory) -> JobRunner:
    settings = Settings(data_dir=tmp_path_factory.mktemp("work-jobs"))
    made = JobRunner(api_registry, settings=settings, workers=1)
    yield made
    made.close()


def _wait(runner: JobRunner, engine: Engine, job_id: str) -> JobView:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            job = runner.get(session, ADMIN, job_id)
        if job.state in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


@pytest.fixture(scope="module")
def pool(api_registry: Engine) -> pd.DataFrame:
    """Households whose helpers and partners are in the registry (the households are not)."""
    data = generate(households=40, seed=41, years=(2019,))
    import_tables(
        principal=ADMIN,
        engine=api_registry,
        frames={"helpers": data.helpers, "partners": data.partners},
        source_name="synth",
    )
    return data.rounds[2019].households.reset_index(drop=True)


def _slice(pool: pd.DataFrame, part: int) -> pd.DataFrame:
    return pool.iloc[part * 5 : part * 5 + 5].reset_index(drop=True)


def _check(runner: JobRunner, engine: Engine, frame: pd.DataFrame) -> JobView:
    content = frame.to_csv(index=False).encode("utf-8")
    job_id = runner.submit_import(
        ADMIN, upload=io.BytesIO(content), filename="h.csv", kind="households", check=True
    )
    return _wait(runner, engine, job_id)


def _uploads(runner: JobRunner) -> list[Path]:
    return sorted(runner.folder.glob("*/input.*"))


def test_a_checked_upload_writes_nothing_until_confirmed(
    runner: JobRunner, api_registry: Engine, pool: pd.DataFrame
) -> None:
    frame = _slice(pool, 0)
    checked = _check(runner, api_registry, frame)
    assert checked.state == "succeeded", checked.error
    assert checked.result is not None
    assert checked.result["written"] is False
    assert checked.result["kinds"]["households"]["created"] == 0
    assert len(_uploads(runner)) == 1  # kept, waiting for the confirmation
    with session_scope(api_registry) as session:
        assert runner.upload_waiting(session, ADMIN, checked.job_id)
        new_id = runner.confirm_import(session, ADMIN, checked.job_id)
    done = _wait(runner, api_registry, new_id)
    assert done.state == "succeeded", done.error
    assert done.result is not None
    assert done.result["written"] is True
    assert done.result["kinds"]["households"]["created"] == len(frame)
    assert done.parameters["confirms"] == checked.job_id
    assert _uploads(runner) == []  # removed once imported
    with session_scope(api_registry) as session:
        assert not runner.upload_waiting(session, ADMIN, checked.job_id)
        with pytest.raises(ConflictError):
            runner.confirm_import(session, ADMIN, checked.job_id)  # only once


def test_a_rejected_file_cannot_be_confirmed_and_is_not_kept(
    runner: JobRunner, api_registry: Engine, pool: pd.DataFrame
) -> None:
    frame = _slice(pool, 1).copy()
    frame.loc[2, "housing_grade"] = "palace"
    checked = _check(runner, api_registry, frame)
    assert checked.result is not None and checked.result["rejected_cells"] == 1
    assert _uploads(runner) == []
    with session_scope(api_registry) as session:
        rows, total = runner.report_rows(session, ADMIN, checked.job_id)
        assert total == 1
        assert rows[0]["row"] == "4" and rows[0]["column"] == "housing_grade"
        assert rows[0]["message_zh"]
        with pytest.raises(ConflictError):
            runner.confirm_import(session, ADMIN, checked.job_id)
        other = Principal(name="someone-else", role="county_officer")
        with pytest.raises(NotFoundError):
            runner.report_rows(session, other, checked.job_id)


def test_cancel_and_expiry_remove_the_upload(
    runner: JobRunner, api_registry: Engine, pool: pd.DataFrame
) -> None:
    first = _check(runner, api_registry, _slice(pool, 2))
    with session_scope(api_registry) as session:
        assert runner.discard_upload(session, ADMIN, first.job_id)
        assert not runner.upload_waiting(session, ADMIN, first.job_id)
        with pytest.raises(ConflictError):
            runner.confirm_import(session, ADMIN, first.job_id)
    second = _check(runner, api_registry, _slice(pool, 3))
    assert second.result is not None and second.result["rejected_cells"] == 0
    assert runner.purge_expired_uploads() == 0  # not old yet
    assert runner.purge_expired_uploads(now=time.time() + 25 * 3600) == 1
    with session_scope(api_registry) as session:
        assert not runner.upload_waiting(session, ADMIN, second.job_id)


def test_small_groups_of_a_measurement_are_suppressed() -> None:
    result = pd.DataFrame(
        {
            "by": ["", "county", "county"],
            "group": ["", "450101", "450102"],
            "measure": ["H", "H", "H"],
            "estimate": [0.2, 0.25, 0.5],
            "se": [0.01, 0.02, 0.2],
            "ci_low": [0.18, 0.21, 0.1],
            "ci_high": [0.22, 0.29, 0.9],
            "n": [104, 100, 4],
        }
    )
    out = suppress_small(result, 5)
    assert out["suppressed"].tolist() == [False, False, True]
    assert np.isnan(out.loc[2, ["estimate", "se", "ci_low", "ci_high", "n"]].astype(float)).all()
    assert out.loc[1, "estimate"] == 0.25 and out.loc[0, "n"] == 104


def test_income_poverty_counts_match_the_ledger(api_registry: Engine) -> None:
    data = import_synth(api_registry, households=60, seed=59)
    state = data.rounds[2019]
    with use_settings(Settings(min_cell=1)), session_scope(api_registry) as session:
        found = income_poverty_aggregates(session, ADMIN, by="county", year=2019)
    assert found.line == 3218.0
    income = state.income.set_index("household_code")["net_income_per_capita"]
    sizes = state.people.groupby("household_code").size()
    below = income[income < found.line].index
    expected_people = int(sizes.reindex(below).fillna(0).sum())
    assert found.table.totals is not None
    shown = found.table.totals.people["below_line"]
    # the registry holds earlier tests' households too (no income record): below the line
    # are exactly this ledger's poor
    assert shown == expected_people
    assert found.table.totals.households["below_line"] == len(below)


def test_every_importable_kind_has_its_words_on_the_upload_form() -> None:
    from dongxi.intake.columns import KINDS
    from dongxi.web.import_pages import KIND_LABELS

    assert set(KIND_LABELS) == set(KINDS)
    assert all(zh and en for zh, en in KIND_LABELS.values())
