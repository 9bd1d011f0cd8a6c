"""Who may call each route: the expectations of the role x endpoint matrix, one dict per router.

A new router adds its dict here (and to :data:`EXPECTED`); the matrix test fails for any route of
the app without an entry. Each entry is a list of (request builder, expected status by role): the
builder takes the test's world (codes and numbers inside and outside the caller's county).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

READERS = {"admin", "county_officer", "village_officer", "auditor"}
REVEALERS = {"admin", "county_officer"}


def _reader(role: str, *, where: str) -> int:
    if role == "anonymous":
        return 401
    if role not in READERS:
        return 403
    if where == "away" and role in ("county_officer", "village_officer"):
        return 404
    return 200


def _revealer(role: str, *, where: str) -> int:
    if role == "anonymous":
        return 401
    if role not in REVEALERS:
        return 403
    if where == "away" and role == "county_officer":
        return 404
    return 200


Request = tuple[str, str, dict[str, Any] | None]
# (method, route path) → list of (request builder, expected status by role)
Cases = dict[
    tuple[str, str], list[tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]]
]

AUTH: Cases = {
    ("GET", "/healthz"): [(lambda w: ("GET", "/healthz", None), lambda r: 200)],
    ("GET", "/api/docs"): [(lambda w: ("GET", "/api/docs", None), lambda r: 200)],
    ("GET", "/readyz"): [(lambda w: ("GET", "/readyz", None), lambda r: 200)],
    ("POST", "/api/v1/auth/login"): [
        (
            lambda w: ("POST", "/api/v1/auth/login", {"username": "nobody", "password": "x" * 12}),
            lambda r: 401,
        )
    ],
    ("POST", "/api/v1/auth/logout"): [
        (
            lambda w: ("POST", "/api/v1/auth/logout", None),
            lambda r: 401 if r == "anonymous" else 204,
        )
    ],
    ("GET", "/api/v1/auth/me"): [
        (lambda w: ("GET", "/api/v1/auth/me", None), lambda r: 401 if r == "anonymous" else 200)
    ],
}

REGISTRY: Cases = {
    ("GET", "/api/v1/households"): [
        (lambda w: ("GET", "/api/v1/households", None), lambda r: _reader(r, where="home"))
    ],
    ("POST", "/api/v1/households/search"): [
        (
            lambda w: ("POST", "/api/v1/households/search", {"name": w["home_name"]}),
            lambda r: _reader(r, where="home"),
        )
    ],
    ("GET", "/api/v1/households/{household_code}"): [
        (
            lambda w: ("GET", f"/api/v1/households/{w['home_code']}", None),
            lambda r: _reader(r, where="home"),
        ),
        (
            lambda w: ("GET", f"/api/v1/households/{w['away_code']}", None),
            lambda r: _reader(r, where="away"),
        ),
        (
            lambda w: ("GET", "/api/v1/households/NO-SUCH-CODE", None),
            lambda r: 404 if r in READERS else _reader(r, where="home"),
        ),
    ],
    ("POST", "/api/v1/people/search"): [
        (
            lambda w: ("POST", "/api/v1/people/search", {"id_number": w["home_id"]}),
            lambda r: _reader(r, where="home"),
        ),
        (
            lambda w: ("POST", "/api/v1/people/search", {"id_number": w["away_id"]}),
            lambda r: _reader(r, where="away"),
        ),
    ],
    ("POST", "/api/v1/people/{id_hash}/reveal"): [
        (
            lambda w: ("POST", f"/api/v1/people/{w['home_hash']}/reveal", {"reason": "visit"}),
            lambda r: _revealer(r, where="home"),
        ),
        (
            lambda w: ("POST", f"/api/v1/people/{w['away_hash']}/reveal", {"reason": "visit"}),
            lambda r: _revealer(r, where="away"),
        ),
    ],
}


def _may(permitted: set[str], status: int) -> Callable[[str], int]:
    """``status`` for the roles that may submit, 403 for the others, 401 without credentials."""

    def expect(role: str) -> int:
        if role == "anonymous":
            return 401
        return status if role in permitted else 403

    return expect


def _signed_in(status: int) -> Callable[[str], int]:
    return lambda role: 401 if role == "anonymous" else status


_NO_JOB = "0" * 32
# Submissions are checked for permission before the body is read: the matrix sends bodies that
# are refused once the permission passed (422) or name a snapshot that does not exist (404),
# so no job is started here (tests/api/test_jobs.py runs them).
JOBS: Cases = {
    ("POST", "/api/v1/jobs/imports"): [
        (
            lambda w: ("POST", "/api/v1/jobs/imports", None),
            _may({"admin", "county_officer", "village_officer"}, 422),
        )
    ],
    ("POST", "/api/v1/jobs/snapshots"): [
        (
            lambda w: ("POST", "/api/v1/jobs/snapshots", {"as_of": "not-a-date"}),
            _may({"admin", "county_officer", "analyst"}, 422),
        )
    ],
    ("POST", "/api/v1/jobs/measurements"): [
        (
            lambda w: (
                "POST",
                "/api/v1/jobs/measurements",
                {"spec": "china_official", "snapshot_id": "no-such-snapshot"},
            ),
            _may({"admin", "county_officer", "analyst", "east_office"}, 404),
        )
    ],
    # a county officer may run rounds, but only with an unrestricted scope
    ("POST", "/api/v1/jobs/matching-rounds"): [
        (
            lambda w: ("POST", "/api/v1/jobs/matching-rounds", {"method": "nonsense"}),
            _may({"admin"}, 422),
        )
    ],
    ("GET", "/api/v1/jobs"): [(lambda w: ("GET", "/api/v1/jobs", None), _signed_in(200))],
    ("GET", "/api/v1/jobs/{job_id}"): [
        (lambda w: ("GET", f"/api/v1/jobs/{_NO_JOB}", None), _signed_in(404))
    ],
    ("GET", "/api/v1/jobs/{job_id}/report"): [
        (lambda w: ("GET", f"/api/v1/jobs/{_NO_JOB}/report", None), _signed_in(404))
    ],
}

EXPECTED: Cases = {**AUTH, **REGISTRY, **JOBS}
