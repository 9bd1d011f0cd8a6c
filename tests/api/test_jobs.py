"""Background jobs through the API, on SQLite and PostgreSQL: an import that runs to its counts,
a bad file whose report is downloadable, a job that outlives its client, a job of a dead process
marked failed at start-up, failures stored with their redacted error, permissions and scope."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from dongxi.api.app import create_app
from dongxi.errors import BackendError
from dongxi.services import jobs as jobs_service
from dongxi.services.jobs import JobRunner
from dongxi.services.principal import Principal
from dongxi.settings import Settings, use_settings
from dongxi.store.base import utcnow
from dongxi.store.db import session_scope
from dongxi.synth import generate
from dongxi.tables import write_sheets

_POLL_SECONDS = 120.0
_DONE = ("succeeded", "failed")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jobs-data")


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, int]]:
    """A synthetic workbook (one sheet per kind) and its row count per kind."""
    data = generate(households=40, seed=23, years=(2019,))
    state = data.rounds[2019]
    sheets = {
        "helpers": data.helpers,
        "partners": data.partners,
        "households": state.households,
        "people": state.people,
        "income": state.income,
    }
    path = write_sheets(sheets, tmp_path_factory.mktemp("upload") / "registry.xlsx")
    return path.read_bytes(), {k: len(v) for k, v in sheets.items()}


@pytest.fixture
def jobs_client(api_registry: Engine, settings: Settings) -> Iterator[TestClient]:
    with use_settings(settings):
        app = create_app(api_registry)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wait(client: TestClient | httpx.Client, url: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + _POLL_SECONDS
    while time.monotonic() < deadline:
        response = client.get(url, headers=_auth(token))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["state"] in _DONE:
            return body
        time.sleep(0.05)
    raise AssertionError(f"the job at {url} did not finish in {_POLL_SECONDS} s")


def _submit_import(
    client: TestClient | httpx.Client, token: str, content: bytes, name: str, **form: str
) -> httpx.Response:
    return client.post(
        "/api/v1/jobs/imports",
        files={"file": (name, io.BytesIO(content), "application/octet-stream")},
        data=form,
        headers=_auth(token),
    )


def test_import_job_runs_to_its_counts_and_files_are_private(
    jobs_client: TestClient,
    make_user: Callable[..., tuple[str, str]],
    workbook: tuple[bytes, dict[str, int]],
    data_dir: Path,
) -> None:
    content, rows = workbook
    name, token = make_user("admin")
    submitted = _submit_import(jobs_client, token, content, "registry.xlsx")
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    assert submitted.headers["location"] == f"/api/v1/jobs/{job_id}"
    job = _wait(jobs_client, submitted.headers["location"], token)
    assert job["state"] == "succeeded", job
    assert job["owner"] == name and job["kind"] == "import" and job["error"] is None
    kinds = job["result"]["kinds"]
    assert {k: v["rows"] for k, v in kinds.items()} == rows
    assert {k: v["created"] for k, v in kinds.items()} == rows
    assert job["result"]["written"] is True and job["result"]["rejected_cells"] == 0
    assert job["parameters"] == {
        "kind": None,
        "partial": False,
        "file_type": ".xlsx",
        "bytes": len(content),
        "check": False,  # the API imports at once (the pages check first)
    }
    assert job["report_url"] is None
    assert job["progress"]["done"] == job["progress"]["total"] and job["progress"]["total"]
    folder = data_dir / "jobs"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / job_id).stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / job_id / "input.xlsx").stat().st_mode) == 0o600
    # the result is stored: the same answer on every poll, the registry holds the rows
    assert jobs_client.get(f"/api/v1/jobs/{job_id}", headers=_auth(token)).json() == job


def test_bad_file_succeeds_with_a_downloadable_report(
    jobs_client: TestClient, make_user: Callable[..., tuple[str, str]], data_dir: Path
) -> None:
    data = generate(households=5, seed=31, years=(2019,))
    households = data.rounds[2019].households.copy()
    households.loc[1, "village_code"] = "999999999999"  # no such village
    households.loc[3, "housing_grade"] = "palace"  # not a code of the vocabulary
    content = households.to_csv(index=False).encode("utf-8")
    _, token = make_user("county_officer", region=str(households["village_code"].iloc[0])[:6])
    submitted = _submit_import(jobs_client, token, content, "households.csv", kind="households")
    assert submitted.status_code == 202, submitted.text
    job = _wait(jobs_client, submitted.headers["location"], token)
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["written"] is False  # all or nothing: one bad row, nothing written
    assert result["kinds"]["households"]["rows"] == 5
    assert result["kinds"]["households"]["rejected_rows"] == 2
    assert result["report"] is True
    assert job["report_url"] == f"/api/v1/jobs/{job['job_id']}/report"
    report = jobs_client.get(job["report_url"], headers=_auth(token))
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(report.content), encoding="utf-8-sig", dtype=str)
    assert sorted(frame["row"].astype(int).unique()) == [3, 5]  # header is row 1
    by_row = frame.groupby(frame["row"].astype(int))["column"].agg(set).to_dict()
    assert "village_code" in by_row[3]  # (its county code then disagrees too)
    assert by_row[5] == {"housing_grade"}
    report_file = data_dir / "jobs" / job["job_id"] / "report.csv"
    assert stat.S_IMODE(report_file.stat().st_mode) == 0o600


def test_a_failure_is_stored_with_its_class_and_redacted_message(
    jobs_client: TestClient, make_user: Callable[..., tuple[str, str]]
) -> None:
    _, token = make_user("admin")
    submitted = jobs_client.post(
        "/api/v1/jobs/matching-rounds", json={"method": "stable"}, headers=_auth(token)
    )
    assert submitted.status_code == 202
    job = _wait(jobs_client, submitted.headers["location"], token)
    assert job["state"] == "failed" and job["result"] is None
    assert job["error"]["class"] == "InputError"
    assert "no current needs" in job["error"]["message"]


def test_snapshot_then_measurement_jobs(
    jobs_client: TestClient,
    make_user: Callable[..., tuple[str, str]],
    workbook: tuple[bytes, dict[str, int]],
    data_dir: Path,
) -> None:
    content, rows = workbook
    _, admin = make_user("admin")
    imported = _submit_import(jobs_client, admin, content, "registry.xlsx")
    assert _wait(jobs_client, imported.headers["location"], admin)["state"] == "succeeded"
    _, analyst = make_user("analyst")
    snap = jobs_client.post("/api/v1/jobs/snapshots", json={"label": "t"}, headers=_auth(analyst))
    assert snap.status_code == 202
    job = _wait(jobs_client, snap.headers["location"], analyst)
    assert job["state"] == "succeeded", job
    snapshot_id = job["result"]["snapshot_id"]
    assert job["result"]["rows"]["households"] >= rows["households"]
    assert (data_dir / "jobs" / job["job_id"] / "snapshot" / "manifest.json").is_file()
    measured = jobs_client.post(
        "/api/v1/jobs/measurements",
        json={"spec": "china_official", "snapshot_id": snapshot_id},
        headers=_auth(analyst),
    )
    assert measured.status_code == 202, measured.text
    job = _wait(jobs_client, measured.headers["location"], analyst)
    assert job["state"] == "succeeded", job
    assert job["result"]["year"] == 2019
    assert {"H", "M0"} <= {row["measure"] for row in job["result"]["headline"]}
    table = pd.read_csv(data_dir / "jobs" / job["job_id"] / "measures.csv", encoding="utf-8-sig")
    assert {"measure", "estimate"} <= set(table.columns)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_job_outlives_the_client_that_submitted_it(
    api_registry: Engine,
    settings: Settings,
    make_user: Callable[..., tuple[str, str]],
    workbook: tuple[bytes, dict[str, int]],
) -> None:
    content, rows = workbook
    _, token = make_user("admin")
    with use_settings(settings):
        app = create_app(api_registry)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as first:
            submitted = _submit_import(first, token, content, "registry.xlsx")
        assert submitted.status_code == 202  # the first client is gone from here on
        with httpx.Client(base_url=base) as second:
            job = _wait(second, submitted.headers["location"], token)
        assert job["state"] == "succeeded", job
        assert {k: v["rows"] for k, v in job["result"]["kinds"].items()} == rows
    finally:
        server.should_exit = True
        thread.join(timeout=60)
    assert not thread.is_alive()


def _dead_pid() -> int:
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(process.stdout)


def test_jobs_of_a_dead_process_are_marked_failed_at_start_up(
    api_registry: Engine, settings: Settings, make_user: Callable[..., tuple[str, str]]
) -> None:
    name, token = make_user("admin")
    host = socket.gethostname()
    rows = {
        "dead-running": ("running", f"{host}:{_dead_pid()}:gone"),
        "dead-queued": ("queued", f"{host}:{_dead_pid()}:gone"),
        "live-running": ("running", f"{host}:{os.getppid()}:alive"),
    }
    ids = {label: uuid.uuid4().hex for label in rows}
    now = utcnow()
    with api_registry.begin() as conn:
        for label, (state, runner) in rows.items():
            conn.execute(
                sa.text(
                    "INSERT INTO jobs (job_id, kind, owner, owner_role, state, runner, "
                    "progress_done, parameters, created_at, updated_at) VALUES (:id, 'snapshot', "
                    ":owner, 'admin', :state, :runner, 0, '{}', :now, :now)"
                ),
                {"id": ids[label], "owner": name, "state": state, "runner": runner, "now": now},
            )
    with use_settings(settings):
        app = create_app(api_registry)
    with TestClient(app) as client:
        seen = {
            label: client.get(f"/api/v1/jobs/{job_id}", headers=_auth(token)).json()
            for label, job_id in ids.items()
        }
    for label in ("dead-running", "dead-queued"):
        assert seen[label]["state"] == "failed"
        assert seen[label]["error"]["class"] == jobs_service.INTERRUPTED
        assert seen[label]["finished_at"] is not None
    assert seen["live-running"]["state"] == "running"  # its process still lives
    with api_registry.begin() as conn:  # leave no running job behind for later tests
        conn.execute(sa.text("DELETE FROM jobs WHERE job_id = :id"), {"id": ids["live-running"]})


def test_permissions_and_ownership(
    jobs_client: TestClient, make_user: Callable[..., tuple[str, str]]
) -> None:
    _, analyst = make_user("analyst")
    refused = _submit_import(jobs_client, analyst, b"a,b\n1,2\n", "x.csv")
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/forbidden")
    _, partner = make_user("east_partner", partner="P-NONE")
    assert (
        jobs_client.post("/api/v1/jobs/snapshots", json={}, headers=_auth(partner)).status_code
        == 403
    )
    _, officer = make_user("county_officer", region="450102")
    assert (
        jobs_client.post(
            "/api/v1/jobs/matching-rounds", json={}, headers=_auth(officer)
        ).status_code
        == 403
    )
    wrong_type = _submit_import(jobs_client, officer, b"x", "notes.txt")
    assert wrong_type.status_code == 422 and wrong_type.json()["field"] == "file"
    mine = jobs_client.post("/api/v1/jobs/snapshots", json={}, headers=_auth(analyst))
    assert mine.status_code == 202
    job_id = mine.json()["job_id"]
    _wait(jobs_client, mine.headers["location"], analyst)
    _, other = make_user("analyst")
    theirs = jobs_client.get(f"/api/v1/jobs/{job_id}", headers=_auth(other))
    missing = jobs_client.get(f"/api/v1/jobs/{'f' * 32}", headers=_auth(other))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()  # another's job looks exactly like a missing one
    assert jobs_client.get(f"/api/v1/jobs/{job_id}/report", headers=_auth(other)).status_code == 404
    assert job_id not in {
        j["job_id"] for j in jobs_client.get("/api/v1/jobs", headers=_auth(other)).json()
    }
    assert job_id in {
        j["job_id"] for j in jobs_client.get("/api/v1/jobs", headers=_auth(analyst)).json()
    }
    _, admin = make_user("admin")
    assert jobs_client.get(f"/api/v1/jobs/{job_id}", headers=_auth(admin)).status_code == 200
    everyone = jobs_client.get("/api/v1/jobs", params={"limit": 200}, headers=_auth(admin)).json()
    assert job_id in {j["job_id"] for j in everyone}


def test_life_cycle_is_data() -> None:
    assert set(jobs_service.TRANSITIONS) == set(jobs_service.STATES)
    finished = {s for s, nxt in jobs_service.TRANSITIONS.items() if not nxt}
    assert finished == {"succeeded", "failed"}
    assert jobs_service.TRANSITIONS["queued"] == {"running", "failed"}


def test_a_stored_error_shows_no_id_number_or_name() -> None:
    text = jobs_service._error_text(ValueError("row of 11010519491231002X 张三丰 failed"))
    assert "11010519491231002X" not in text and "张三丰" not in text
    assert text == "row of 1101************** 张** failed"


_JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**62), 2**62)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
    | st.integers(-1000, 1000).map(np.int64)
    | st.floats(allow_nan=True).map(np.float64),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


@given(_JSONISH)
def test_results_are_always_plain_json(value: Any) -> None:
    plain = jobs_service._plain(value)
    assert json.loads(json.dumps(plain, allow_nan=False)) == plain


def test_a_job_submitted_to_a_stopped_pool_is_failed_not_left_queued(
    api_registry: Engine, settings: Settings
) -> None:
    runner = JobRunner(api_registry, settings=settings)
    runner.close()
    who = Principal(name=f"stopped-{uuid.uuid4().hex[:6]}", role="admin")
    with pytest.raises(BackendError, match="stopping"):
        runner.submit_snapshot(who)
    with session_scope(api_registry) as session:
        (job,) = runner.list(session, Principal(name="x", role="admin"), limit=200)[:1]
    assert job.owner == who.name
    assert job.state == "failed" and job.error == {
        "class": jobs_service.INTERRUPTED,
        "message": "The server was stopping and did not start the job.",
    }
