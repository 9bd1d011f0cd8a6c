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


WRITERS = {"admin", "county_officer", "village_officer"}


def _writer(role: str, *, where: str, reviewing: bool = False) -> int:
    """An edit with a stale version (409 once past permission and scope), or an action on a
    closed change request (409 for the reviewers above the village; the village officer, who
    neither proposed nor may review it, 403)."""
    if role == "anonymous":
        return 401
    if role not in WRITERS:
        return 403
    if where == "away" and role in ("county_officer", "village_officer"):
        return 404
    if reviewing and role == "village_officer":
        return 403
    return 409


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


def _page(role: str, *, where: str) -> int:
    """A page: no session → 303 to /login; otherwise as the API (403 page, 404 page)."""
    return 303 if role == "anonymous" else _reader(role, where=where)


PAGES: Cases = {
    ("GET", "/"): [(lambda w: ("GET", "/", None), lambda r: 303)],
    ("GET", "/login"): [(lambda w: ("GET", "/login", None), lambda r: 200)],
    ("POST", "/login"): [
        (
            lambda w: ("POST", "/login", {"username": "nobody", "password": "x" * 12}),
            lambda r: 401,
        )
    ],
    ("POST", "/logout"): [(lambda w: ("POST", "/logout", {"x": "1"}), lambda r: 303)],
    ("GET", "/households"): [
        (lambda w: ("GET", "/households", None), lambda r: _page(r, where="home"))
    ],
    ("POST", "/households/search"): [
        (
            lambda w: ("POST", "/households/search", {"name": w["home_name"]}),
            lambda r: _page(r, where="home"),
        )
    ],
    ("GET", "/households/{household_code}"): [
        (
            lambda w: ("GET", f"/households/{w['home_code']}", None),
            lambda r: _page(r, where="home"),
        ),
        (
            lambda w: ("GET", f"/households/{w['away_code']}", None),
            lambda r: _page(r, where="away"),
        ),
    ],
}

_STALE = {"expected_version": 999_999, "changes": {"road_access": True}}
_STALE_PERSON = {"expected_version": 999_999, "changes": {"employment": "farming"}}


def _review_case(
    action: str, where: str
) -> tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]:
    def build(w: dict[str, Any]) -> Request:
        return (
            "POST",
            f"/api/v1/change-requests/{w[where + '_request']}/{action}",
            {"comment": "ok"},
        )

    return build, lambda r: _writer(r, where=where, reviewing=True)


def _review(action: str) -> list[tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]]:
    """An action on the world's closed (rejected) change requests, at home and away."""
    return [_review_case(action, "home"), _review_case(action, "away")]


CHANGES: Cases = {
    ("PATCH", "/api/v1/households/{household_code}"): [
        (
            lambda w: ("PATCH", f"/api/v1/households/{w['home_code']}", _STALE),
            lambda r: _writer(r, where="home"),
        ),
        (
            lambda w: ("PATCH", f"/api/v1/households/{w['away_code']}", _STALE),
            lambda r: _writer(r, where="away"),
        ),
        (
            lambda w: ("PATCH", "/api/v1/households/NO-SUCH-CODE", _STALE),
            lambda r: 404 if r in WRITERS else _writer(r, where="home"),
        ),
    ],
    ("PATCH", "/api/v1/people/{id_hash}"): [
        (
            lambda w: ("PATCH", f"/api/v1/people/{w['home_hash']}", _STALE_PERSON),
            lambda r: _writer(r, where="home"),
        ),
        (
            lambda w: ("PATCH", f"/api/v1/people/{w['away_hash']}", _STALE_PERSON),
            lambda r: _writer(r, where="away"),
        ),
    ],
    ("GET", "/api/v1/change-requests"): [
        (lambda w: ("GET", "/api/v1/change-requests", None), lambda r: _reader(r, where="home"))
    ],
    ("GET", "/api/v1/change-requests/{request_id}"): [
        (
            lambda w: ("GET", f"/api/v1/change-requests/{w['home_request']}", None),
            lambda r: _reader(r, where="home"),
        ),
        (
            lambda w: ("GET", f"/api/v1/change-requests/{w['away_request']}", None),
            lambda r: _reader(r, where="away"),
        ),
    ],
    ("POST", "/api/v1/change-requests/{request_id}/approve"): _review("approve"),
    ("POST", "/api/v1/change-requests/{request_id}/reject"): _review("reject"),
    ("POST", "/api/v1/change-requests/{request_id}/withdraw"): _review("withdraw"),
}


def _may(permitted: set[str], status: int) -> Callable[[str], int]:
    """``status`` for the roles that may submit, 403 for the others, 401 without credentials."""

    def expect(role: str) -> int:
        if role == "anonymous":
            return 401
        return status if role in permitted else 403

    return expect


EVERYONE = {
    "admin",
    "county_officer",
    "village_officer",
    "auditor",
    "analyst",
    "east_office",
    "east_partner",
}
PARTNER_READERS = READERS | {"east_partner"}
SEEKER_OFFICERS = {"admin", "county_officer", "village_officer"}
MARKET_READERS = SEEKER_OFFICERS | {"east_partner"}
SNAPSHOT_READERS = {"admin", "analyst"}  # snapshot:create with an unrestricted scope
NO_RUN = "00000000-0000-0000-0000-000000000000"


def _allowed(roles: set[str], ok: int = 200) -> Callable[[str], int]:
    def expect(role: str) -> int:
        if role == "anonymous":
            return 401
        return ok if role in roles else 403

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


def _list(
    path: str, roles: set[str], **params: str
) -> list[tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]]:
    """A list inside and outside the caller's county: both 200 (the list holds only the scope;
    tests/api/test_api_lists.py checks the rows)."""

    def url(w: dict[str, Any], where: str) -> str:
        pairs = dict(params)
        if "region" in pairs:
            pairs["region"] = w["home_county"] if where == "home" else w["away_county"]
        query = "&".join(f"{k}={v}" for k, v in pairs.items())
        return f"{path}?{query}" if query else path

    return [
        (lambda w: ("GET", url(w, "home"), None), _allowed(roles)),
        (lambda w: ("GET", url(w, "away"), None), _allowed(roles)),
    ]


LISTS: Cases = {
    ("GET", "/api/v1/income"): _list("/api/v1/income", READERS, year="2019", region=""),
    ("GET", "/api/v1/measures"): _list("/api/v1/measures", PARTNER_READERS, region=""),
    ("GET", "/api/v1/partners"): _list("/api/v1/partners", PARTNER_READERS),
    ("GET", "/api/v1/helpers"): _list("/api/v1/helpers", READERS, region=""),
    ("GET", "/api/v1/regions"): _list("/api/v1/regions", EVERYONE, level="county"),
    ("GET", "/api/v1/pairings"): _list("/api/v1/pairings", EVERYONE, west="45"),
    ("GET", "/api/v1/policy/parameters"): _list("/api/v1/policy/parameters", EVERYONE),
    ("GET", "/api/v1/snapshots"): _list("/api/v1/snapshots", SNAPSHOT_READERS),
    ("GET", "/api/v1/needs"): _list("/api/v1/needs", SEEKER_OFFICERS, region=""),
    ("GET", "/api/v1/offers"): _list("/api/v1/offers", MARKET_READERS),
    ("GET", "/api/v1/match-runs"): _list("/api/v1/match-runs", MARKET_READERS),
    ("GET", "/api/v1/match-runs/{run_id}/proposals"): [
        (
            lambda w: ("GET", f"/api/v1/match-runs/{NO_RUN}/proposals", None),
            _allowed(MARKET_READERS, ok=404),
        )
    ],
    ("GET", "/api/v1/aggregates/households"): [
        (lambda w: ("GET", "/api/v1/aggregates/households?by=county", None), _allowed(EVERYONE)),
        (
            lambda w: ("GET", "/api/v1/aggregates/households?by=township&year=2019", None),
            _allowed(EVERYONE),
        ),
    ],
}


IMPORTERS = {"admin", "county_officer", "village_officer"}
MEASURERS = {"admin", "county_officer", "analyst", "east_office"}
SNAPSHOTTERS = {"admin", "county_officer", "analyst"}


def _work_page(roles: set[str], status: int) -> Callable[[str], int]:
    """A work page: no session → 303 to /login; a role without the permission → 403 page;
    otherwise ``status`` (404 for a job that is not one's own, 422 for a refused form)."""

    def expect(role: str) -> int:
        if role == "anonymous":
            return 303
        return status if role in roles else 403

    return expect


def _market_page_writer(role: str, *, where: str, reviewing: bool = False) -> int:
    """A page that writes: as the API (:func:`_writer`), but no session → 303 to /login."""
    return 303 if role == "anonymous" else _writer(role, where=where, reviewing=reviewing)


def _page_review(
    action: str, where: str
) -> tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]:
    def build(w: dict[str, Any]) -> Request:
        return ("POST", f"/changes/{w[where + '_request']}/{action}", {"comment": "ok"})

    return build, lambda r: _market_page_writer(r, where=where, reviewing=True)


def _page_roles(roles: set[str], status: int = 200) -> Callable[[str], int]:
    """A page for ``roles`` (``status``), 403 for the others, 303 to /login without a session."""

    def expect(role: str) -> int:
        if role == "anonymous":
            return 303
        return status if role in roles else 403

    return expect


# The forms are sent without their file (422 once the permission passed), so no job starts;
# tests/e2e/test_work_pages.py runs them in a browser.
WORK_PAGES: Cases = {
    ("GET", "/overview"): [
        (lambda w: ("GET", "/overview", None), _work_page(EVERYONE, 200)),
        (lambda w: ("GET", "/overview?by=township&year=2020", None), _work_page(EVERYONE, 200)),
    ],
    ("GET", "/imports"): [(lambda w: ("GET", "/imports", None), _work_page(IMPORTERS, 200))],
    ("POST", "/imports"): [
        (lambda w: ("POST", "/imports", {"kind": "households"}), _work_page(IMPORTERS, 422))
    ],
    ("GET", "/imports/{job_id}"): [
        (lambda w: ("GET", f"/imports/{_NO_JOB}", None), _work_page(IMPORTERS, 404))
    ],
    ("GET", "/imports/{job_id}/status"): [
        (lambda w: ("GET", f"/imports/{_NO_JOB}/status", None), _work_page(IMPORTERS, 404))
    ],
    ("GET", "/imports/{job_id}/errors.csv"): [
        (lambda w: ("GET", f"/imports/{_NO_JOB}/errors.csv", None), _work_page(IMPORTERS, 404))
    ],
    ("POST", "/imports/{job_id}/confirm"): [
        (lambda w: ("POST", f"/imports/{_NO_JOB}/confirm", {"x": "1"}), _work_page(IMPORTERS, 404))
    ],
    ("POST", "/imports/{job_id}/cancel"): [
        (lambda w: ("POST", f"/imports/{_NO_JOB}/cancel", {"x": "1"}), _work_page(IMPORTERS, 404))
    ],
    ("GET", "/measure"): [(lambda w: ("GET", "/measure", None), _work_page(MEASURERS, 200))],
    ("POST", "/measure"): [
        (
            lambda w: ("POST", "/measure", {"spec": "china_official", "snapshot_id": "none"}),
            _work_page(MEASURERS, 422),
        )
    ],
    ("POST", "/measure/snapshots"): [
        (
            lambda w: ("POST", "/measure/snapshots", {"label": "x" * 201}),
            _work_page(SNAPSHOTTERS, 422),
        )
    ],
    ("GET", "/measure/{job_id}"): [
        (lambda w: ("GET", f"/measure/{_NO_JOB}", None), _work_page(MEASURERS, 404))
    ],
    ("GET", "/measure/{job_id}/status"): [
        (lambda w: ("GET", f"/measure/{_NO_JOB}/status", None), _work_page(MEASURERS, 404))
    ],
    ("GET", "/measure/{job_id}/result.{fmt}"): [
        (lambda w: ("GET", f"/measure/{_NO_JOB}/result.csv", None), _work_page(MEASURERS, 404))
    ],
}


def _page_writer(role: str, *, where: str, status: int = 409) -> int:
    """A page's form refused once past permission and scope (anonymous: to the login page)."""
    return (
        303
        if role == "anonymous"
        else _writer(role, where=where)
        if status == 409
        else (403 if role not in WRITERS else status)
    )


def _both(
    method: str, template: str, key: str, body: dict[str, Any] | None, expect: Callable[..., int]
) -> list[tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]]:
    """The same call on the world's record at home and away (``key``: ``case`` or ``notice``)."""

    def case(where: str) -> tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]:
        def build(w: dict[str, Any]) -> Request:
            ids = {"id": w[f"{where}_{key}"], "objection": w[f"{where}_objection"]}
            return method, template.format(**ids), body

        return build, lambda r: expect(r, where=where)

    return [case("home"), case("away")]


_LONG_AGO = "2020-01-01"  # a notice may start at most 30 days back: 422 once permitted
# The world's cases are open in 'warning' (no step to 'recorded' from there: 409); its notices
# are closed (an objection, a resolution or a closing: 409).
MONITORING: Cases = {
    ("GET", "/api/v1/cases"): [
        (lambda w: ("GET", "/api/v1/cases", None), lambda r: _reader(r, where="home"))
    ],
    ("POST", "/api/v1/cases"): [
        (
            lambda w: (
                "POST",
                "/api/v1/cases",
                {"household_code": w["home_code"], "procedure": "exit", "channel": "cadre_sweep"},
            ),
            lambda r: _writer(r, where="home"),
        ),
        (
            lambda w: (
                "POST",
                "/api/v1/cases",
                {"household_code": w["away_code"], "procedure": "exit", "channel": "cadre_sweep"},
            ),
            lambda r: _writer(r, where="away"),
        ),
    ],
    ("GET", "/api/v1/cases/{case_id}"): _both("GET", "/api/v1/cases/{id}", "case", None, _reader),
    ("POST", "/api/v1/cases/{case_id}/steps"): _both(
        "POST", "/api/v1/cases/{id}/steps", "case", {"to": "recorded"}, _writer
    ),
    ("GET", "/api/v1/notices"): [
        (lambda w: ("GET", "/api/v1/notices", None), lambda r: _reader(r, where="home"))
    ],
    ("POST", "/api/v1/notices"): [
        (
            lambda w: (
                "POST",
                "/api/v1/notices",
                {"kind": "exit", "household_codes": [w["home_code"]], "starts_on": _LONG_AGO},
            ),
            _may(WRITERS, 422),
        )
    ],
    ("GET", "/api/v1/notices/{notice_id}"): _both(
        "GET", "/api/v1/notices/{id}", "notice", None, _reader
    ),
    ("POST", "/api/v1/notices/{notice_id}/objections"): _both(
        "POST",
        "/api/v1/notices/{id}/objections",
        "notice",
        {"raised_by": "村民", "text": "matrix"},
        _writer,
    ),
    ("POST", "/api/v1/notices/{notice_id}/objections/{objection_id}/resolve"): _both(
        "POST",
        "/api/v1/notices/{id}/objections/{objection}/resolve",
        "notice",
        {"resolution": "matrix"},
        _writer,
    ),
    ("POST", "/api/v1/notices/{notice_id}/close"): _both(
        "POST", "/api/v1/notices/{id}/close", "notice", None, _writer
    ),
    ("GET", "/notices"): [(lambda w: ("GET", "/notices", None), lambda r: _page(r, where="home"))],
    ("POST", "/notices"): [
        (
            lambda w: (
                "POST",
                "/notices",
                {"kind": "exit", "households": w["home_code"], "starts_on": _LONG_AGO},
            ),
            lambda r: _page_writer(r, where="home", status=422),
        )
    ],
    ("GET", "/notices/{notice_id}"): _both("GET", "/notices/{id}", "notice", None, _page),
    ("GET", "/notices/{notice_id}/print"): _both(
        "GET", "/notices/{id}/print", "notice", None, _page
    ),
    ("POST", "/notices/{notice_id}/objections"): _both(
        "POST",
        "/notices/{id}/objections",
        "notice",
        {"raised_by": "村民", "text": "matrix"},
        _page_writer,
    ),
    ("POST", "/notices/{notice_id}/objections/{objection_id}/resolve"): _both(
        "POST",
        "/notices/{id}/objections/{objection}/resolve",
        "notice",
        {"resolution": "matrix"},
        _page_writer,
    ),
    ("POST", "/notices/{notice_id}/close"): _both(
        "POST", "/notices/{id}/close", "notice", {"x": "1"}, _page_writer
    ),
    ("GET", "/cases"): [(lambda w: ("GET", "/cases", None), lambda r: _page(r, where="home"))],
    ("GET", "/cases/{case_id}"): _both("GET", "/cases/{id}", "case", None, _page),
    ("POST", "/cases/{case_id}/advance"): _both(
        "POST",
        "/cases/{id}/advance",
        "case",
        {"to": "recorded", "row_version": "1"},
        _page_writer,
    ),
}


def _need_case(where: str) -> tuple[Callable[[dict[str, Any]], Request], Callable[[str], int]]:
    """A need of an unknown kind: refused (422) once permission and scope passed."""

    def build(w: dict[str, Any]) -> Request:
        body = {"id_hash": w[where + "_hash"], "kind": "nonsense", "places": "440300"}
        return ("POST", f"/households/{w[where + '_code']}/needs", body)

    def expect(role: str) -> int:
        if role == "anonymous":
            return 303
        if role not in SEEKER_OFFICERS:
            return 403
        if where == "away" and role != "admin":
            return 404
        return 422

    return build, expect


# an edit that changes the housing grade and every fact, with a stale version (409)
_PAGE_STALE = {"expected_version": "999999", "housing_grade": "D", "comment": "matrix"}
_BAD_OFFER = {"kind": "nonsense", "place_code": "440300", "positions": "1"}
PARTNERS = {"east_partner"}
ROUND_RUNNERS = {"admin", "county_officer"}  # market:run (starting one: unrestricted only)

MARKET_PAGES: Cases = {
    ("POST", "/households/{household_code}/edit"): [
        (
            lambda w: ("POST", f"/households/{w['home_code']}/edit", _PAGE_STALE),
            lambda r: _market_page_writer(r, where="home") if r != "auditor" else 403,
        ),
        (
            lambda w: ("POST", f"/households/{w['away_code']}/edit", _PAGE_STALE),
            lambda r: _market_page_writer(r, where="away") if r != "auditor" else 403,
        ),
    ],
    ("GET", "/changes"): [(lambda w: ("GET", "/changes", None), lambda r: _page(r, where="home"))],
    ("GET", "/changes/{request_id}"): [
        (
            lambda w: ("GET", f"/changes/{w['home_request']}", None),
            lambda r: _page(r, where="home"),
        ),
        (
            lambda w: ("GET", f"/changes/{w['away_request']}", None),
            lambda r: _page(r, where="away"),
        ),
    ],
    ("POST", "/changes/{request_id}/approve"): [
        _page_review("approve", "home"),
        _page_review("approve", "away"),
    ],
    ("POST", "/changes/{request_id}/reject"): [
        _page_review("reject", "home"),
        _page_review("reject", "away"),
    ],
    ("POST", "/changes/{request_id}/withdraw"): [
        _page_review("withdraw", "home"),
        _page_review("withdraw", "away"),
    ],
    ("POST", "/households/{household_code}/needs"): [_need_case("home"), _need_case("away")],
    ("GET", "/market"): [
        (
            lambda w: ("GET", "/market", None),
            _page_roles(SEEKER_OFFICERS | PARTNERS, 303),
        )
    ],
    ("GET", "/market/answers"): [
        (lambda w: ("GET", "/market/answers", None), _page_roles(SEEKER_OFFICERS))
    ],
    ("POST", "/market/answers/{proposal_id}"): [
        (
            lambda w: ("POST", "/market/answers/999999", {"decision": "accept"}),
            _page_roles(SEEKER_OFFICERS, 404),
        )
    ],
    ("GET", "/market/rounds"): [
        (lambda w: ("GET", "/market/rounds", None), _page_roles(ROUND_RUNNERS))
    ],
    # refused before anything starts: the method is unknown (admin) or the scope restricted
    ("POST", "/market/rounds"): [
        (
            lambda w: ("POST", "/market/rounds", {"method": "nonsense"}),
            _page_roles({"admin"}, 422),
        )
    ],
    ("GET", "/market/rounds/{run_id}"): [
        (lambda w: ("GET", f"/market/rounds/{NO_RUN}", None), _page_roles(ROUND_RUNNERS, 404))
    ],
    ("POST", "/market/rounds/{run_id}/publish"): [
        (
            lambda w: ("POST", f"/market/rounds/{NO_RUN}/publish", {"x": "1"}),
            _page_roles({"admin"}, 404),
        )
    ],
    ("POST", "/market/rounds/{run_id}/next"): [
        (
            lambda w: ("POST", f"/market/rounds/{NO_RUN}/next", {"method": "stable"}),
            _page_roles(ROUND_RUNNERS, 404),
        )
    ],
    ("GET", "/market/jobs/{job_id}"): [
        (lambda w: ("GET", f"/market/jobs/{_NO_JOB}", None), _page_roles(EVERYONE, 404))
    ],
    # offers and matches: a partner's user only (an administrator belongs to no partner)
    ("GET", "/market/offers"): [(lambda w: ("GET", "/market/offers", None), _page_roles(PARTNERS))],
    ("POST", "/market/offers"): [
        (lambda w: ("POST", "/market/offers", _BAD_OFFER), _page_roles(PARTNERS, 422))
    ],
    ("GET", "/market/offers/{offer_id}"): [
        (lambda w: ("GET", "/market/offers/NO-SUCH-OFFER", None), _page_roles(PARTNERS, 404))
    ],
    ("POST", "/market/offers/{offer_id}"): [
        (
            lambda w: ("POST", "/market/offers/NO-SUCH-OFFER", {**_BAD_OFFER, "kind": "job"}),
            _page_roles(PARTNERS, 404),
        )
    ],
    ("GET", "/market/matches"): [
        (lambda w: ("GET", "/market/matches", None), _page_roles(PARTNERS))
    ],
    ("POST", "/market/matches/{proposal_id}/answer"): [
        (
            lambda w: ("POST", "/market/matches/999999/answer", {"decision": "confirm"}),
            _page_roles(PARTNERS, 404),
        )
    ],
    ("POST", "/market/matches/{proposal_id}/outcome"): [
        (
            lambda w: ("POST", "/market/matches/999999/outcome", {"hired": "yes"}),
            _page_roles(PARTNERS, 404),
        )
    ],
}


EXPECTED: Cases = {
    **AUTH,
    **REGISTRY,
    **CHANGES,
    **JOBS,
    **LISTS,
    **PAGES,
    **WORK_PAGES,
    **MONITORING,
    **MARKET_PAGES,
}
