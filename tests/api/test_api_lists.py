"""The lists (income, measures, partners, helpers, reference data, snapshots, the market) and the
suppressed household aggregates, on SQLite and PostgreSQL.

A registry of 700 synthetic households in two counties (``dongxi.synth``, seed 11), with a small
market: needs of ten registry people, offers of two partners, one run whose proposals are in
several states. Each list is walked page by page with a small limit and compared with the rows
the database holds in the caller's scope: no row twice, none missing, in key order.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from api_fixtures import ADMIN, import_synth
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from dongxi.api.app import create_app
from dongxi.pii.protect import get_protector
from dongxi.services.aggregates import protect
from dongxi.settings import get_settings

STATES = ["proposed", "accepted", "declined_by_seeker", "confirmed", "hired", "expired"]


@pytest.fixture(scope="module")
def world(api_registry: Engine) -> dict[str, Any]:
    data = import_synth(api_registry, households=700, seed=11, measures=True)
    state = data.rounds[2019]
    hh = state.households
    counties = sorted(hh["village_code"].str[:6].unique())
    home, away = counties[0], counties[1]
    partners = sorted(data.partners["partner_code"])
    mine, other = partners[0], partners[1]
    # the market: 12 seekers (6 per county), registry people; offers of two partners
    from dongxi.store.market_models import record_run, save_needs, save_offers

    people = state.people.merge(hh[["household_code", "village_code"]], on="household_code")
    seekers = pd.concat([people[people["village_code"].str[:6] == c].head(6) for c in (home, away)])
    hashes = [get_protector().hash(str(n)) for n in seekers["id_number"]]
    needs = pd.DataFrame(
        {
            "seeker_id": hashes,
            "household_code": seekers["household_code"].to_numpy(),
            "county_code": seekers["village_code"].str[:6].to_numpy(),
            "age": [20, 30, 40, 50, 60, 33] * 2,
            "skills": ["welding"] * 12,
            "education": ["junior_middle"] * 12,
            "labour_capacity": ["normal"] * 12,
        }
    )
    save_needs(api_registry, needs, actor="test")
    offers = pd.DataFrame(
        {
            "offer_id": ["O-MINE-1", "O-MINE-2", "O-OTHER-1"],
            "partner_code": [mine, mine, other],
            "place_code": ["440307"] * 3,
            "positions": [3, 3, 3],
            "monthly_wage": [5000.0, 5200.0, 4800.0],
        }
    )
    save_offers(api_registry, offers, actor="test")
    offer_of = ["O-MINE-1", "O-MINE-2", "O-OTHER-1"]
    proposals = pd.DataFrame(
        {
            "seeker_id": hashes,
            "offer_id": [offer_of[i % 3] for i in range(12)],
            "seeker_rank": [1] * 12,
            "offer_rank": list(range(1, 13)),
            "welfare": [1.0] * 12,
            "state": [STATES[i % len(STATES)] for i in range(12)],
        }
    )
    overall = {
        "seekers": 12,
        "offers": 3,
        "acceptable_pairs": 36,
        "matched": 12,
        "blocking_pairs": 0,
        "total_welfare": 12.0,
    }
    run_id = record_run(
        api_registry,
        method="stable",
        kind="job",
        seed=1,
        actor="test",
        proposals=proposals,
        overall=overall,
        report={},
    )
    return {
        "home": home,
        "away": away,
        "mine": mine,
        "other": other,
        "run_id": run_id,
        "proposals": proposals.assign(county=needs["county_code"]),
        "names": dict(zip(hashes, seekers["name"], strict=True)),
    }


@pytest.fixture(scope="module")
def app_client(api_registry: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(api_registry)) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(api_registry: Engine, world: dict[str, Any]) -> dict[str, str]:
    from dongxi.services import accounts
    from dongxi.store.db import session_scope

    scopes: dict[str, tuple[str, dict[str, str]]] = {
        "admin": ("admin", {}),
        "county": ("county_officer", {"region": world["home"]}),
        "analyst": ("analyst", {}),
        "east_office": ("east_office", {"region": "440300"}),
        "partner": ("east_partner", {"partner": world["mine"]}),
    }
    out: dict[str, str] = {}
    with session_scope(api_registry) as session:
        for key, (role, kw) in scopes.items():
            name = f"{key}-{uuid.uuid4().hex[:6]}"
            accounts.add_user(session, ADMIN, username=name, password="x" * 16, role=role, **kw)
            out[key] = accounts.create_token(session, ADMIN, username=name)
    return out


Walk = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def walk(app_client: TestClient, tokens: dict[str, str]) -> Walk:
    """Every row of a list, page by page (limit 7), checking the cursor at each step."""

    def run(path: str, who: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after = None
        for _ in range(1000):
            query = {"limit": 7, **params, **({"after": after} if after else {})}
            response = app_client.get(
                path, params=query, headers={"Authorization": f"Bearer {tokens[who]}"}
            )
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= 7
            rows += page["items"]
            after = page["next_after"]
            if after is None:
                return rows
        raise AssertionError("the list did not end")

    return run


def _sql(engine: Engine, query: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query), params).all()]


def _keys(rows: list[dict[str, Any]], *names: str) -> list[tuple[Any, ...]]:
    keys = [tuple(r[n] for n in names) for r in rows]
    assert keys == sorted(keys), "rows out of key order"
    assert len(set(keys)) == len(keys), "a row came twice"
    return keys


def test_income_pages_hold_exactly_the_scope(
    walk: Walk, api_registry: Engine, world: dict[str, Any]
) -> None:
    every = _keys(walk("/api/v1/income", "admin"), "household_code", "year")
    assert every == _sql(api_registry, "SELECT household_code, year FROM income ORDER BY 1, 2")
    assert len(every) == 700
    county = _keys(walk("/api/v1/income", "county", year=2019), "household_code", "year")
    expected = _sql(
        api_registry,
        "SELECT i.household_code, i.year FROM income i JOIN households h "
        "ON h.household_code = i.household_code WHERE h.village_code LIKE :p AND i.year = 2019 "
        "ORDER BY 1, 2",
        p=world["home"] + "%",
    )
    assert county == expected and 0 < len(county) < 700
    # the region filter cannot widen the scope
    assert walk("/api/v1/income", "county", region=world["away"]) == []
    assert walk("/api/v1/income", "admin", year=2018) == []


def test_measures_by_scope_and_partner(
    walk: Walk, api_registry: Engine, world: dict[str, Any]
) -> None:
    every = _keys(walk("/api/v1/measures", "admin"), "measure_code")
    assert every == _sql(api_registry, "SELECT measure_code FROM measures ORDER BY 1")
    county = walk("/api/v1/measures", "county")
    assert county and {m["place_code"][:6] for m in county} == {world["home"]}
    expected = _sql(
        api_registry,
        "SELECT m.measure_code FROM measures m LEFT JOIN households h "
        "ON h.household_code = m.household_code "
        "WHERE COALESCE(h.village_code, m.region_code) LIKE :p ORDER BY 1",
        p=world["home"] + "%",
    )
    assert _keys(county, "measure_code") == expected
    own = walk("/api/v1/measures", "partner")
    assert _keys(own, "measure_code") == _sql(
        api_registry,
        "SELECT measure_code FROM measures WHERE partner_code = :p ORDER BY 1",
        p=world["mine"],
    )
    done = walk("/api/v1/measures", "admin", status="completed")
    assert done and {m["status"] for m in done} == {"completed"}


def test_partners_and_helpers(walk: Walk, api_registry: Engine, world: dict[str, Any]) -> None:
    every = _keys(walk("/api/v1/partners", "admin"), "partner_code")
    assert every == _sql(api_registry, "SELECT partner_code FROM partners ORDER BY 1")
    assert [p["partner_code"] for p in walk("/api/v1/partners", "partner")] == [world["mine"]]
    helpers = walk("/api/v1/helpers", "county")
    assert _keys(helpers, "helper_id") == _sql(
        api_registry,
        "SELECT helper_id FROM helpers WHERE region_code LIKE :p ORDER BY 1",
        p=world["home"] + "%",
    )
    assert helpers


def test_reference_lists_and_filters(walk: Walk, api_registry: Engine) -> None:
    counties = walk("/api/v1/regions", "analyst", parent="451000", level="county")
    assert counties and {(r["parent_code"], r["level"]) for r in counties} == {("451000", "county")}
    assert _keys(counties, "code", "vintage") == _sql(
        api_registry,
        "SELECT code, vintage FROM regions WHERE parent_code = '451000' AND level = 'county' "
        "ORDER BY 1, 2",
    )
    vintages = {r[0] for r in _sql(api_registry, "SELECT DISTINCT vintage FROM regions")}
    one = min(vintages)
    got = walk("/api/v1/regions", "partner", parent="451000", vintage=one)
    assert got and {r["vintage"] for r in got} == {one}
    pairs = walk("/api/v1/pairings", "east_office", east="4403")
    assert pairs and all(p["east_code"].startswith("4403") for p in pairs)
    assert _keys(pairs, "id") == _sql(
        api_registry, "SELECT id FROM pairings WHERE east_code LIKE '4403%' ORDER BY 1"
    )
    parameters = walk("/api/v1/policy/parameters", "county")
    assert _keys(parameters, "id") == _sql(
        api_registry, "SELECT id FROM policy_parameters ORDER BY 1"
    )


def test_snapshot_records_only_for_unrestricted_snapshot_takers(
    app_client: TestClient, tokens: dict[str, str], walk: Walk
) -> None:
    assert walk("/api/v1/snapshots", "analyst") == []
    for who in ("county", "partner", "east_office"):
        response = app_client.get(
            "/api/v1/snapshots", headers={"Authorization": f"Bearer {tokens[who]}"}
        )
        assert response.status_code == 403


def test_needs_offers_and_runs_by_scope(walk: Walk, world: dict[str, Any]) -> None:
    needs = walk("/api/v1/needs", "admin")
    assert len(needs) == 12 and _keys(needs, "need_id")
    county = walk("/api/v1/needs", "county")
    assert len(county) == 6 and {n["county_code"] for n in county} == {world["home"]}
    assert walk("/api/v1/needs", "county", region=world["away"]) == []
    offers = walk("/api/v1/offers", "admin")
    assert [o["offer_id"] for o in offers] == ["O-MINE-1", "O-MINE-2", "O-OTHER-1"]
    own = walk("/api/v1/offers", "partner")
    assert [o["offer_id"] for o in own] == ["O-MINE-1", "O-MINE-2"]
    runs = walk("/api/v1/match-runs", "partner")
    assert [r["run_id"] for r in runs] == [world["run_id"]]
    assert "report_json" not in runs[0]


def test_proposals_seen_by_officer_and_partner(
    walk: Walk, world: dict[str, Any], api_registry: Engine
) -> None:
    path = f"/api/v1/match-runs/{world['run_id']}/proposals"
    frame = world["proposals"]
    every = walk(path, "admin")
    assert len(every) == 12 and _keys(every, "proposal_id")
    county = walk(path, "county")
    assert len(county) == 6 and {p["county_code"] for p in county} == {world["home"]}
    seen = walk(path, "partner")
    consented = {"accepted", "confirmed", "declined_by_partner", "hired", "not_hired"}
    expected = frame[frame["offer_id"].str.startswith("O-MINE") & frame["state"].isin(consented)]
    assert len(seen) == len(expected) > 0
    assert sorted((p["offer_id"], p["state"]) for p in seen) == sorted(
        zip(expected["offer_id"], expected["state"], strict=True)
    )
    for p in seen:
        assert set(p) == {
            "proposal_id",
            "offer_id",
            "state",
            "name",
            "age_band",
            "skills",
            "contact",
        }
        assert p["name"] in world["names"].values()
        assert p["age_band"] in {"16-24", "25-34", "35-44", "45-54", "55+"}
        assert p["skills"] == "welding"
    assert walk(path, "partner", state="proposed") == []
    logged = _sql(
        api_registry,
        "SELECT after FROM change_log WHERE action = 'read' AND entity = 'match_proposals' "
        "AND entity_key = :k",
        k=world["run_id"],
    )
    audited = {i for (after,) in logged for i in json.loads(after)["proposals"]}
    assert audited == {p["proposal_id"] for p in seen}
    hired = walk(path, "county", state="hired")
    assert {p["state"] for p in hired} == {"hired"}


def test_proposals_of_a_missing_run_are_404(app_client: TestClient, tokens: dict[str, str]) -> None:
    response = app_client.get(
        "/api/v1/match-runs/00000000-0000-0000-0000-000000000000/proposals",
        headers={"Authorization": f"Bearer {tokens['county']}"},
    )
    assert response.status_code == 404


def test_bad_cursor_is_422(app_client: TestClient, tokens: dict[str, str]) -> None:
    response = app_client.get(
        "/api/v1/income",
        params={"after": "no-year-here"},
        headers={"Authorization": f"Bearer {tokens['admin']}"},
    )
    assert response.status_code == 422
    assert response.json()["rule"] == "cursor"


# --- aggregates ---------------------------------------------------------------------------


@pytest.fixture
def min_cell_10(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DONGXI_MIN_CELL", "10")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("DONGXI_MIN_CELL")
    get_settings.cache_clear()


def _aggregate(client: TestClient, token: str, **params: Any) -> dict[str, Any]:
    response = client.get(
        "/api/v1/aggregates/households",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _true_people(engine: Engine, digits: int) -> dict[tuple[str, str], int]:
    rows = _sql(
        engine,
        "SELECT substr(h.village_code, 1, :d), h.status, h.monitoring_category, count(p.id_hash) "
        "FROM households h JOIN people p ON p.household_code = h.household_code "
        "GROUP BY 1, 2, 3",
        d=digits,
    )
    out: dict[tuple[str, str], int] = {}
    for division, status, category, n in rows:
        group = status if not category else f"{status}:{category}"
        out[(division, group)] = out.get((division, group), 0) + int(n)
    return out


def test_aggregates_match_the_registry_without_small_cells(
    app_client: TestClient, tokens: dict[str, str], api_registry: Engine
) -> None:
    table = _aggregate(app_client, tokens["analyst"], by="township")
    truth = _true_people(api_registry, 9)
    assert table["min_cell"] == 5
    for row in table["rows"]:
        for group in table["groups"]:
            shown = row["people"][group]
            real = truth.get((row["division"], group), 0)
            assert shown is None or shown == real
            if 0 < real < 5:
                assert shown is None
    assert table["totals"]["people"]["total"] == sum(truth.values())


def test_aggregates_suppress_small_cells_and_their_complements(
    app_client: TestClient,
    tokens: dict[str, str],
    api_registry: Engine,
    min_cell_10: None,
    world: dict[str, Any],
) -> None:
    county = _aggregate(app_client, tokens["analyst"], by="county")
    township = _aggregate(app_client, tokens["analyst"], by="township")
    truth = _true_people(api_registry, 6)
    small = [key for key, n in truth.items() if 0 < n < 10]
    assert small, "the synthetic registry must have a cell under 10 people"
    # every published value of both requests, as (level, division, group) -> value
    published: dict[tuple[str, str], int | None] = {}
    for table in (county, township):
        for row in [*table["rows"], table["totals"]]:
            for group, value in row["people"].items():
                published[(row["division"], group)] = value
    for division, group in small:
        assert published[(division, group)] is None
    hidden = [key for key, value in published.items() if value is None]
    assert len(hidden) >= 2 * len(small)
    # no hidden value can be derived: rebuild the equations and check the hidden ones move
    _assert_not_derivable(published, county["groups"])
    # an east office sees its paired western counties (451000 and 451200 pair with Shenzhen),
    # the same pattern and no column totals
    office = _aggregate(app_client, tokens["east_office"], by="county")
    assert {r["division"] for r in office["rows"]} == {world["home"], world["away"]}
    assert office["totals"] is None
    assert office["rows"] == county["rows"]
    mine = _aggregate(app_client, tokens["county"], by="township")
    assert {r["division"][:6] for r in mine["rows"]} == {world["home"]}
    assert mine["totals"] is None


def _assert_not_derivable(published: dict[tuple[str, str], int | None], groups: list[str]) -> None:
    """Search the integer solutions of the published equations: each hidden value must take at
    least two values across them."""
    divisions = sorted({d for d, _ in published})
    townships = [d for d in divisions if len(d) == 9]
    counties = [d for d in divisions if len(d) == 6]
    columns = [*groups, "total"]
    equations: list[tuple[tuple[str, str], list[tuple[str, str]]]] = []
    for d in [*townships, *counties, "total"]:
        equations.append(((d, "total"), [(d, g) for g in groups]))
    for c in counties:
        for g in columns:
            equations.append(((c, g), [(t, g) for t in townships if t[:6] == c]))
    for g in columns:
        equations.append((("total", g), [(c, g) for c in counties]))
    values = [published.get(key) for key in published]
    keys = list(published)
    assert len(values) == len(keys)
    eqs = [
        [(keys.index(whole), -1)] + [(keys.index(p), 1) for p in parts]
        for whole, parts in equations
    ]
    _brute_force(values, eqs)


def _brute_force(values: list[int | None], equations: list[list[tuple[int, int]]]) -> None:
    """Enumerate integer solutions (0 … the largest published value + 3) by search with propagation;
    stop once every hidden value has been seen with two values. Fails if one cannot move."""
    hidden = [i for i, v in enumerate(values) if v is None]
    # a hidden value can be any count: search past the largest published one (all published
    # values 0 and one small cell hidden with its totals: with a bound of 0 every hidden value
    # looked fixed, though none can be told)
    bound = max(v for v in values if v is not None) + 3
    seen: dict[int, set[int]] = {i: set() for i in hidden}

    def propagate(assign: dict[int, int]) -> dict[int, int] | None:
        assign = dict(assign)
        changed = True
        while changed:
            changed = False
            for eq in equations:
                unknown = [(i, c) for i, c in eq if values[i] is None and i not in assign]
                known = sum(
                    c * (values[i] if values[i] is not None else assign[i])
                    for i, c in eq
                    if not (values[i] is None and i not in assign)
                )
                if not unknown:
                    if known != 0:
                        return None
                elif len(unknown) == 1:
                    i, c = unknown[0]
                    value = -known * c  # c is ±1
                    if not 0 <= value <= bound:
                        return None
                    assign[i] = value
                    changed = True
        return assign

    def search(assign: dict[int, int]) -> bool:
        if all(len(s) >= 2 for s in seen.values()):
            return True
        free = [i for i in hidden if i not in assign]
        if not free:
            for i in hidden:
                seen[i].add(assign[i])
            return all(len(s) >= 2 for s in seen.values())
        i = free[0]
        for value in range(bound + 1):
            nxt = propagate({**assign, i: value})
            if nxt is not None and search(nxt):
                return True
        return False

    start = propagate({})
    assert start is not None, "the published values are inconsistent"
    search(start)
    fixed = [i for i, s in seen.items() if len(s) < 2]
    assert fixed == [], "a suppressed value is derivable from the published ones"


def _table_equations(rows: int, cols: int) -> list[list[tuple[int, int]]]:
    """A rows x cols table with row totals, column totals and the grand total, as equations
    over the flat index r * (cols + 1) + c (the last row and column are the totals)."""

    def at(r: int, c: int) -> int:
        return r * (cols + 1) + c

    eqs = [[(at(r, cols), -1)] + [(at(r, c), 1) for c in range(cols)] for r in range(rows + 1)]
    eqs += [[(at(rows, c), -1)] + [(at(r, c), 1) for r in range(rows)] for c in range(cols + 1)]
    return eqs


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda r: st.integers(2, 3).flatmap(
            lambda c: st.tuples(
                st.just(r), st.just(c), st.lists(st.integers(0, 9), min_size=r * c, max_size=r * c)
            )
        )
    )
)
def test_protect_leaves_no_suppressed_cell_derivable(shape: tuple[int, int, list[int]]) -> None:
    rows, cols, inner = shape
    grid = [inner[r * cols : (r + 1) * cols] for r in range(rows)]
    full = [[*row, sum(row)] for row in grid]
    full.append([sum(full[r][c] for r in range(rows)) for c in range(cols + 1)])
    values = list(itertools.chain.from_iterable(full))
    equations = _table_equations(rows, cols)
    hidden = protect(values, equations, 3)
    for i, v in enumerate(values):
        if 0 < v < 3:
            assert i in hidden  # primary
        if v == 0:
            assert i not in hidden  # zeros are never needed
    _brute_force([None if i in hidden else v for i, v in enumerate(values)], equations)


def test_protect_known_table() -> None:
    # 2 x 2 table [[1, 8], [6, 7]]: 1 is small; row, column and the diagonal must follow
    values = [1, 8, 9, 6, 7, 13, 7, 15, 22]
    hidden = protect(values, _table_equations(2, 2), 3)
    assert hidden == {0, 1, 3, 4}


def test_protect_hides_nothing_without_small_cells() -> None:
    values = [5, 8, 13, 6, 7, 13, 11, 15, 26]
    assert protect(values, _table_equations(2, 2), 5) == set()
