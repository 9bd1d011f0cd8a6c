"""Registry tables of the two-sided market, and the store functions that read and write them.

- ``market_needs`` — needs stated by (or for) a person or household, **with history**: a new
  statement closes the current row (``valid_to``) and adds a new one; the current need of a seeker
  and kind is the row with ``valid_to IS NULL``.
- ``market_offers`` — offers from eastern partners (job posts, training seats, workshop places,
  projects, purchase commitments, expert visits), with history the same way.
- ``match_runs`` — one row per run of a matching method (a round), with its report as JSON.
  The method is kept in the column ``engine`` (its name in migration 0002).
- ``match_proposals`` — the pairs a run proposed, with their current state.
- ``match_transitions`` — every state change of a proposal: from, to, time, actor and role
  (append-only; the allowed changes are :data:`dongxi.market.TRANSITIONS`).
- ``match_outcomes`` — what a confirmed placement became: hired, start date, wage, retained at 3
  and 6 months.

Sex and ethnicity are deliberately absent from the needs: they are never matching criteria.
``hours_per_day`` (migration 0015) is, on a need, the most hours a day the person can give (a
carer's limit) and, on an offer, the hours a day the work or the course asks; empty: not stated.

Every write here also goes into the hash-chained change log (:mod:`dongxi.store._changelog`), in
the same transaction: new and replaced versions of needs and offers (``create``/``update``, the
replaced version as ``before``), runs (their report by SHA-256), proposals, transitions (each
``create``, and the proposal's ``update`` of state) and outcomes. ``match_transitions`` is
append-only in the database (triggers, migration 0003).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from dongxi import vocab
from dongxi.errors import InputError, NotFoundError
from dongxi.intake.columns import HOURS_PER_DAY
from dongxi.store._changelog import Change, record_changes
from dongxi.store.base import Base, utcnow
from dongxi.store.db import session_scope, translate_errors

if TYPE_CHECKING:
    from dongxi.store.scope import Scope

__all__ = [
    "NEED_KINDS",
    "OFFER_KINDS",
    "MarketNeed",
    "MarketOffer",
    "MatchOutcome",
    "MatchProposal",
    "MatchRun",
    "MatchTransition",
    "close_drafts",
    "current_needs",
    "current_offers",
    "import_market_rows",
    "latest_run",
    "names_for_round",
    "next_run_of_proposal",
    "proposal_history",
    "proposal_in_scope",
    "record_outcome",
    "record_run",
    "record_transition",
    "round_runs",
    "round_seekers",
    "run_lineage",
    "save_draft_needs",
    "save_needs",
    "save_offers",
]

NEED_KINDS: tuple[str, ...] = vocab.NEED_KINDS.codes
OFFER_KINDS: tuple[str, ...] = vocab.OFFER_KINDS.codes
WILLINGNESS: tuple[str, ...] = vocab.WILLINGNESS.codes
_BOOL = sa.Boolean(create_constraint=False)


def _in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)


#: ``hours_per_day`` within the import's range (:data:`dongxi.intake.columns.HOURS_PER_DAY`).
_HOURS_CHECK = (
    f"hours_per_day IS NULL OR hours_per_day BETWEEN {HOURS_PER_DAY[0]} AND {HOURS_PER_DAY[1]}"
)


class MarketNeed(Base):
    """One statement of a need (a version: ``valid_to`` is null for the current one)."""

    __tablename__ = "market_needs"
    __table_args__ = (
        _in("kind", NEED_KINDS, "kind"),
        _in("willingness", WILLINGNESS, "willingness"),
        sa.CheckConstraint(_HOURS_CHECK, name="hours_per_day"),
        sa.Index(
            "uq_market_needs_current",
            "seeker_id",
            "kind",
            unique=True,
            postgresql_where=sa.text("valid_to IS NULL"),
            sqlite_where=sa.text("valid_to IS NULL"),
        ),
    )

    need_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    seeker_id: Mapped[str] = mapped_column(sa.String(64))
    household_code: Mapped[str | None] = mapped_column(sa.String(32))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20))
    age: Mapped[int | None] = mapped_column(sa.Integer)
    education: Mapped[str | None] = mapped_column(sa.String(20))
    labour_capacity: Mapped[str | None] = mapped_column(sa.String(20))
    skills: Mapped[str | None] = mapped_column(sa.String(400))
    sectors: Mapped[str | None] = mapped_column(sa.String(400))
    places: Mapped[str | None] = mapped_column(sa.String(400))
    min_wage: Mapped[float | None] = mapped_column(sa.Float)
    needs_dormitory: Mapped[bool] = mapped_column(_BOOL, default=False)
    details: Mapped[str | None] = mapped_column(sa.Text)
    willingness: Mapped[str] = mapped_column(sa.String(20), default="willing")
    stated_on: Mapped[dt.date] = mapped_column(sa.Date)
    valid_from: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    valid_to: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    #: Drafted from a monitoring case (``dongxi monitor needs``), not stated: kept out of
    #: matching until a cadre confirms it (imported back as a stated need, migration 0013).
    draft: Mapped[bool] = mapped_column(_BOOL, default=False, server_default=sa.false())
    #: The most hours a day the person can give (a carer's limit); null: no limit (0015).
    hours_per_day: Mapped[float | None] = mapped_column(sa.Float)


class MarketOffer(Base):
    """One version of an offer (``valid_to`` is null for the current one)."""

    __tablename__ = "market_offers"
    __table_args__ = (
        _in("kind", OFFER_KINDS, "kind"),
        sa.CheckConstraint("positions >= 0", name="positions_nonnegative"),
        sa.CheckConstraint(_HOURS_CHECK, name="hours_per_day"),
        sa.Index(
            "uq_market_offers_current",
            "offer_id",
            unique=True,
            postgresql_where=sa.text("valid_to IS NULL"),
            sqlite_where=sa.text("valid_to IS NULL"),
        ),
    )

    offer_row_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    offer_id: Mapped[str] = mapped_column(sa.String(64))
    partner_code: Mapped[str | None] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(20))
    place_code: Mapped[str] = mapped_column(sa.String(12))
    sector: Mapped[str | None] = mapped_column(sa.String(100))
    monthly_wage: Mapped[float | None] = mapped_column(sa.Float)
    subsidy: Mapped[float] = mapped_column(sa.Float, default=0.0)
    positions: Mapped[int] = mapped_column(sa.Integer)
    age_min: Mapped[int] = mapped_column(sa.Integer, default=16)
    age_max: Mapped[int] = mapped_column(sa.Integer, default=60)
    min_education: Mapped[str] = mapped_column(sa.String(20), default="none")
    skill_required: Mapped[str | None] = mapped_column(sa.String(100))
    physical: Mapped[bool] = mapped_column(_BOOL, default=False)
    dormitory: Mapped[bool] = mapped_column(_BOOL, default=False)
    living_cost: Mapped[float] = mapped_column(sa.Float, default=0.0)
    starts_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    details: Mapped[str | None] = mapped_column(sa.Text)
    valid_from: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    valid_to: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    #: The hours a day the work or the course asks; null: not stated (migration 0015).
    hours_per_day: Mapped[float | None] = mapped_column(sa.Float)


class MatchRun(Base):
    """One run of a matching method (one round); ``engine`` holds the method's name."""

    __tablename__ = "match_runs"
    __table_args__ = (_in("engine", ("stable", "optimal"), "engine"),)

    run_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    parent_run_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("match_runs.run_id")
    )
    round_no: Mapped[int] = mapped_column(sa.Integer, default=1)
    engine: Mapped[str] = mapped_column(sa.String(10))
    kind: Mapped[str] = mapped_column(sa.String(20))
    seed: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(100))
    seekers: Mapped[int] = mapped_column(sa.Integer)
    offers: Mapped[int] = mapped_column(sa.Integer)
    acceptable_pairs: Mapped[int] = mapped_column(sa.BigInteger)
    matched: Mapped[int] = mapped_column(sa.Integer)
    blocking_pairs: Mapped[int] = mapped_column(sa.BigInteger)
    total_welfare: Mapped[float] = mapped_column(sa.Float)
    report_json: Mapped[str] = mapped_column(sa.Text)
    #: When an officer published the round to the cadres and partners (null: not yet).
    published_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(sa.String(100))


class MatchProposal(Base):
    """A pair proposed by a run, with its current state."""

    __tablename__ = "match_proposals"
    __table_args__ = (sa.UniqueConstraint("run_id", "seeker_id"),)

    proposal_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("match_runs.run_id"))
    seeker_id: Mapped[str] = mapped_column(sa.String(64))
    offer_id: Mapped[str] = mapped_column(sa.String(64))
    seeker_rank: Mapped[int] = mapped_column(sa.Integer)
    offer_rank: Mapped[int] = mapped_column(sa.Integer)
    welfare: Mapped[float] = mapped_column(sa.Float)
    state: Mapped[str] = mapped_column(sa.String(24), default="proposed")
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class MatchTransition(Base):
    """One state change of a proposal (append-only)."""

    __tablename__ = "match_transitions"

    transition_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    proposal_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("match_proposals.proposal_id"),
        index=True,
    )
    from_state: Mapped[str | None] = mapped_column(sa.String(24))
    to_state: Mapped[str] = mapped_column(sa.String(24))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(10))
    note: Mapped[str | None] = mapped_column(sa.String(400))


class MatchOutcome(Base):
    """What a confirmed placement became."""

    __tablename__ = "match_outcomes"

    proposal_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("match_proposals.proposal_id"),
        primary_key=True,
    )
    hired: Mapped[bool] = mapped_column(_BOOL)
    start_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    monthly_wage: Mapped[float | None] = mapped_column(sa.Float)
    retained_3m: Mapped[bool | None] = mapped_column(_BOOL)
    retained_6m: Mapped[bool | None] = mapped_column(_BOOL)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(sa.String(100))


# --- store functions -------------------------------------------------------------------------

#: Where a store function writes or reads: an engine (its own transaction) or the caller's
#: session (the caller's transaction: a web request writes its audit entries with it).
Target = Engine | Session


@contextmanager
def _writing(target: Target) -> Iterator[Session]:
    if isinstance(target, Session):
        with translate_errors("Saving to the registry"):
            yield target
            target.flush()
    else:
        with session_scope(target) as session:
            yield session


def _reading(target: Target) -> AbstractContextManager[Connection]:
    if isinstance(target, Session):
        return nullcontext(target.connection())
    return target.connect()


_BOOKKEEPING = {"need_id", "offer_row_id", "valid_from", "valid_to", "recorded_by"}
_NEED_FIELDS = [c.name for c in MarketNeed.__table__.columns if c.name not in _BOOKKEEPING]
_OFFER_FIELDS = [c.name for c in MarketOffer.__table__.columns if c.name not in _BOOKKEEPING]


def _records(
    frame: pd.DataFrame, fields: Sequence[str], defaults: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = []
    present = [f for f in fields if f in frame.columns]
    clean = frame[present].astype(object).where(frame[present].notna(), None)
    for record in clean.to_dict("records"):
        row: dict[str, Any] = dict(defaults)
        row.update({str(k): v for k, v in record.items() if v is not None})
        for key, value in list(row.items()):
            if isinstance(value, np.generic):
                row[key] = value.item()
            if key in {"stated_on", "starts_on", "ends_on"} and isinstance(value, str):
                row[key] = dt.date.fromisoformat(value)
        rows.append({str(k): v for k, v in row.items()})
    return rows


def _log(
    connection: Connection,
    *,
    actor: str,
    entity: str,
    changes: Sequence[Change],
) -> None:
    """Change-log entries: ``create`` for changes without ``before``, ``update`` for the rest."""
    created = [c for c in changes if c.before is None]
    updated = [c for c in changes if c.before is not None]
    if created:
        record_changes(connection, actor=actor, action="create", entity=entity, changes=created)
    if updated:
        record_changes(connection, actor=actor, action="update", entity=entity, changes=updated)


def _save_versions(
    engine: Target,
    model: Any,
    rows: list[dict[str, Any]],
    key: Sequence[str],
    actor: str,
) -> int:
    with _writing(engine) as session:
        return _save_versions_on(session.connection(), model, rows, key, actor)


def _key_condition(table: sa.Table, key: Sequence[str], rows: Sequence[dict[str, Any]]) -> Any:
    """The rows' keys as a condition the current-row index can serve: ``first IN (…)`` per value
    of the other key columns (a need's ``seeker_id`` per ``kind``), not a list of row values —
    PostgreSQL plans ``(a, b) IN ((…), …)`` of 5,000 pairs as a scan taking seconds a chunk."""
    first, rest = key[0], key[1:]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in rest), []).append(row[first])
    return sa.or_(
        *[
            sa.and_(*[table.c[k] == v for k, v in zip(rest, values, strict=True)],
                    table.c[first].in_(firsts))
            for values, firsts in groups.items()
        ]
    )  # fmt: skip


def _save_versions_on(
    connection: Connection,
    model: Any,
    rows: list[dict[str, Any]],
    key: Sequence[str],
    actor: str,
) -> int:
    """Close the current version of each row's key and insert the rows, with change-log
    entries, on an open connection (the caller's transaction)."""
    now = utcnow()
    table = model.__table__
    fields = [c for c in table.columns if c.name not in _BOOKKEEPING]
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        cond = _key_condition(table, key, chunk)
        current = {
            tuple(m[k] for k in key): dict(m)
            for m in connection.execute(
                sa.select(*fields).where(cond, table.c.valid_to.is_(None))
            ).mappings()
        }
        connection.execute(
            sa.update(table).where(cond, table.c.valid_to.is_(None)).values(valid_to=now)
        )
        connection.execute(
            sa.insert(table), [{**r, "valid_from": now, "recorded_by": actor} for r in chunk]
        )
        _log(
            connection,
            actor=actor,
            entity=table.name,
            changes=[
                Change(
                    key="/".join(str(r[k]) for k in key),
                    before=current.get(tuple(r[k] for k in key)),
                    after=r,
                )
                for r in chunk
            ],
        )
    return len(rows)


def save_needs(engine: Target, needs: pd.DataFrame, *, actor: str, kind: str = "employment") -> int:
    """Record new statements of needs (closing the current version of each); returns the count.

    ``needs`` has the seekers columns of ``docs/market.md``; ``kind`` applies where the frame has
    no ``kind`` column. Extra columns (e.g. ``sex``) are ignored: they are never criteria.
    """
    if "seeker_id" not in needs.columns or "county_code" not in needs.columns:
        raise InputError(
            "needs lack seeker_id or county_code.", fix="Give each need its seeker and county."
        )
    frame = needs.copy()
    frame["needs_dormitory"] = frame.get("needs_dormitory", False)
    if "stated_on" not in frame.columns:
        frame["stated_on"] = dt.date.today().isoformat()
    if "status" not in frame.columns:
        frame["status"] = "never"
    defaults: dict[str, Any] = {"kind": kind, "willingness": "willing"}
    rows = _records(frame, _NEED_FIELDS, defaults)
    return _save_versions(engine, MarketNeed, rows, ("seeker_id", "kind"), actor)


def save_offers(engine: Target, offers: pd.DataFrame, *, actor: str, kind: str = "job") -> int:
    """Record new versions of offers (closing the current version of each); returns the count."""
    if "offer_id" not in offers.columns or "positions" not in offers.columns:
        raise InputError(
            "offers lack offer_id or positions.", fix="Give each offer its id and places."
        )
    rows = _uniform(_records(offers, _OFFER_FIELDS, {"kind": kind}), _OFFER_DEFAULTS)
    return _save_versions(engine, MarketOffer, rows, ("offer_id",), actor)


def _uniform(rows: list[dict[str, Any]], defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row with the same keys (one insert statement for all rows): a cell empty in some
    rows only (``skill_required`` of most offers) is null there, or the registry's default."""
    keys = sorted({k for row in rows for k in row})
    return [{k: row.get(k, defaults.get(k)) for k in keys} for row in rows]


def _need_rows(needs: pd.DataFrame, kind: str) -> list[dict[str, Any]]:
    frame = needs.copy()
    frame["needs_dormitory"] = frame.get("needs_dormitory", False)
    if "stated_on" not in frame.columns:
        frame["stated_on"] = dt.date.today().isoformat()
    frame["stated_on"] = frame["stated_on"].fillna(dt.date.today().isoformat())
    if "status" not in frame.columns:
        frame["status"] = "never"
    frame["status"] = frame["status"].fillna("never")
    return _uniform(
        _records(frame, _NEED_FIELDS, {"kind": kind, "willingness": "willing"}), _NEED_DEFAULTS
    )


#: The registry's values for cells an imported file leaves empty (columns that hold no null).
_OFFER_DEFAULTS: dict[str, Any] = {
    "subsidy": 0.0,
    "age_min": 16,
    "age_max": 60,
    "min_education": "none",
    "physical": False,
    "dormitory": False,
    "living_cost": 0.0,
}
_NEED_DEFAULTS: dict[str, Any] = {
    "needs_dormitory": False,
    "willingness": "willing",
    "draft": False,
}


def _complete(
    rows: list[dict[str, Any]], fields: Sequence[str], defaults: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every row with every field (one insert statement for all), dates as dates."""
    out = []
    for row in rows:
        full = {f: row.get(f, defaults.get(f)) for f in fields}
        for name, value in full.items():
            if value is None and name in defaults:
                full[name] = defaults[name]
            elif isinstance(value, dt.datetime):
                full[name] = value.date()
        out.append(full)
    return out


def import_market_rows(
    connection: Connection, kind: str, frame: pd.DataFrame, *, actor: str
) -> int:
    """Write validated rows of an imported needs or offers table (canonical columns, the
    ``needs``/``offers`` kinds of :data:`dongxi.intake.columns.TABLE_KINDS`) as new current
    versions, with change-log entries, in the caller's transaction; returns the count."""
    clean = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
    if kind == "needs":
        rows = _complete(_need_rows(clean, "employment"), _NEED_FIELDS, _NEED_DEFAULTS)
        return _save_versions_on(connection, MarketNeed, rows, ("seeker_id", "kind"), actor)
    if kind == "offers":
        rows = _complete(
            _records(clean, _OFFER_FIELDS, {"kind": "job"}), _OFFER_FIELDS, _OFFER_DEFAULTS
        )
        return _save_versions_on(connection, MarketOffer, rows, ("offer_id",), actor)
    raise InputError(f"'{kind}' is not a kind of the market.", value=kind, rule="kind")


def names_for_round(
    engine: Engine, household_codes: Iterable[str], partner_codes: Iterable[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The village code of each household and the name of each partner the registry holds,
    for showing a round's placements by name."""
    households = sa.table("households", sa.column("household_code"), sa.column("village_code"))
    partners = sa.table("partners", sa.column("partner_code"), sa.column("name"))
    hh = sorted({str(c) for c in household_codes if c})
    pc = sorted({str(c) for c in partner_codes if c})
    villages: dict[str, str] = {}
    names: dict[str, str] = {}
    with translate_errors("Reading names for a round"), engine.connect() as conn:
        for start in range(0, len(hh), 5000):
            rows = conn.execute(
                sa.select(households.c.household_code, households.c.village_code).where(
                    households.c.household_code.in_(hh[start : start + 5000])
                )
            )
            villages.update({str(a): str(b) for a, b in rows})
        for start in range(0, len(pc), 5000):
            rows = conn.execute(
                sa.select(partners.c.partner_code, partners.c.name).where(
                    partners.c.partner_code.in_(pc[start : start + 5000])
                )
            )
            names.update({str(a): str(b) for a, b in rows})
    return villages, names


def current_needs(engine: Engine, *, kind: str = "employment") -> pd.DataFrame:
    """Current stated needs of one kind, one row per seeker (the engine's seekers table);
    drafts (``draft``) are left out until a cadre confirms them."""
    table = MarketNeed.__table__
    query = (
        sa.select(*[table.c[f] for f in _NEED_FIELDS if f != "draft"])
        .where(table.c.kind == kind, table.c.valid_to.is_(None), table.c.draft == sa.false())
        .order_by(table.c.seeker_id)
    )
    with translate_errors("Reading needs"), engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    for column in ("skills", "sectors", "places"):
        frame[column] = frame[column].fillna("")
    return frame


def save_draft_needs(session: Session, rows: list[dict[str, Any]], *, actor: str) -> list[str]:
    """Insert drafted needs (``draft`` true) in the caller's transaction, with change-log entries,
    for the seekers that have no current need of that kind (a stated need, or an earlier draft,
    is never replaced by a draft); returns the seekers drafted."""
    table = MarketNeed.__table__
    connection = session.connection()
    new: list[dict[str, Any]] = []
    with translate_errors("Drafting needs"):
        for kind in sorted({str(r["kind"]) for r in rows}):
            mine = [r for r in rows if r["kind"] == kind]
            ids = [str(r["seeker_id"]) for r in mine]
            current: set[str] = set()
            for start in range(0, len(ids), 5000):
                current.update(
                    connection.scalars(
                        sa.select(table.c.seeker_id).where(
                            table.c.seeker_id.in_(ids[start : start + 5000]),
                            table.c.kind == kind,
                            table.c.valid_to.is_(None),
                        )
                    )
                )
            new.extend({**r, "draft": True} for r in mine if r["seeker_id"] not in current)
        if new:
            rows_full = _complete(new, _NEED_FIELDS, _NEED_DEFAULTS)
            _save_versions_on(connection, MarketNeed, rows_full, ("seeker_id", "kind"), actor)
    return [str(r["seeker_id"]) for r in new]


def close_drafts(session: Session, seekers: Sequence[tuple[str, str]], *, actor: str) -> int:
    """Close the current drafted needs of ``seekers`` (``(seeker_id, kind)`` pairs) in the
    caller's transaction, with change-log entries (``update``: ``valid_to`` set): the person
    stated their need another way (on the household's page). Returns how many were closed."""
    connection = session.connection()
    now = utcnow()
    closed: list[Change] = []
    with translate_errors("Closing drafted needs"):
        for seeker, kind in seekers:
            mine = sa.and_(
                MarketNeed.seeker_id == seeker,
                MarketNeed.kind == kind,
                MarketNeed.valid_to.is_(None),
                MarketNeed.draft == sa.true(),
            )
            update = sa.update(MarketNeed).where(mine).values(valid_to=now)
            if connection.execute(update).rowcount:
                closed.append(
                    Change(
                        key=f"{seeker}/{kind}",
                        before={"valid_to": None, "draft": True},
                        after={"valid_to": now, "draft": True},
                    )
                )
        _log(connection, actor=actor, entity="market_needs", changes=closed)
    return len(closed)


def current_offers(engine: Engine, *, kind: str = "job") -> pd.DataFrame:
    """Current offers of one kind (the engine's offers table)."""
    table = MarketOffer.__table__
    query = (
        sa.select(*[table.c[f] for f in _OFFER_FIELDS])
        .where(table.c.kind == kind, table.c.valid_to.is_(None))
        .order_by(table.c.offer_id)
    )
    with translate_errors("Reading offers"), engine.connect() as conn:
        return pd.read_sql(query, conn)


def record_run(
    engine: Engine,
    *,
    method: str,
    kind: str,
    seed: int,
    actor: str,
    proposals: pd.DataFrame,
    overall: dict[str, Any],
    report: dict[str, Any],
    parent_run_id: str | None = None,
    run_id: str | None = None,
) -> str:
    """Store a run, its proposals (state ``proposed``, each with its first transition); the id.

    ``run_id`` is chosen by the caller when the runs of one round (one run per kind of offer)
    name each other in their reports (``round_runs``, see :func:`round_runs`).
    """
    run_id = run_id or str(uuid.uuid4())
    now = utcnow()
    with session_scope(engine) as session:
        round_no = 1
        if parent_run_id is not None:
            parent = session.get(MatchRun, parent_run_id)
            if parent is None:
                raise NotFoundError(f"match run {parent_run_id} does not exist.")
            round_no = parent.round_no + 1
        session.add(
            MatchRun(
                run_id=run_id,
                parent_run_id=parent_run_id,
                round_no=round_no,
                engine=method,
                kind=kind,
                seed=seed,
                created_at=now,
                actor=actor,
                seekers=int(overall["seekers"]),
                offers=int(overall.get("offers", 0)),
                acceptable_pairs=int(overall["acceptable_pairs"]),
                matched=int(overall["matched"]),
                blocking_pairs=int(overall["blocking_pairs"]),
                total_welfare=float(overall["total_welfare"]),
                report_json=json.dumps(report, ensure_ascii=False, default=str),
            )
        )
        session.flush()
        rows = [
            {
                "run_id": run_id,
                "seeker_id": str(r.seeker_id),
                "offer_id": str(r.offer_id),
                "seeker_rank": int(cast(int, r.seeker_rank)),
                "offer_rank": int(cast(int, r.offer_rank)),
                "welfare": float(cast(float, r.welfare)),
                "state": str(getattr(r, "state", "proposed")),
                "updated_at": now,
            }
            for r in proposals.itertuples(index=False)
        ]
        if rows:
            session.execute(sa.insert(MatchProposal), rows)
        proposal_table = MatchProposal.__table__
        written = session.execute(
            sa.select(proposal_table)
            .where(proposal_table.c.run_id == run_id)
            .order_by(proposal_table.c.proposal_id)
        ).mappings()
        logged = [Change(key=str(r["proposal_id"]), after=dict(r)) for r in written]
        ids = [(int(c.key), str(c.after["state"])) for c in logged if c.after is not None]
        if ids:
            session.execute(
                sa.insert(MatchTransition),
                [
                    {
                        "proposal_id": pid,
                        "from_state": None,
                        "to_state": state,
                        "at": now,
                        "actor": actor,
                        "role": "system",
                        "note": "proposed by the engine" if state == "proposed" else "kept",
                    }
                    for pid, state in ids
                ],
            )
        _log_run(session, run_id=run_id, actor=actor, proposals=logged)
    return run_id


def _log_run(session: Session, *, run_id: str, actor: str, proposals: Sequence[Change]) -> None:
    """The change-log entries of a run: the run (its report by SHA-256), its proposals and
    their first transitions."""
    connection = session.connection()
    runs = MatchRun.__table__
    run = dict(connection.execute(sa.select(runs).where(runs.c.run_id == run_id)).mappings().one())
    report = str(run.pop("report_json"))
    run["report_sha256"] = hashlib.sha256(report.encode("utf-8")).hexdigest()
    record_changes(
        connection,
        actor=actor,
        action="create",
        entity="match_runs",
        changes=[Change(key=run_id, after=run)],
    )
    _log(connection, actor=actor, entity="match_proposals", changes=proposals)
    transitions = MatchTransition.__table__
    ids = sa.select(MatchProposal.proposal_id).where(MatchProposal.run_id == run_id)
    rows = connection.execute(
        sa.select(transitions)
        .where(transitions.c.proposal_id.in_(ids))
        .order_by(transitions.c.transition_id)
    ).mappings()
    _log(
        connection,
        actor=actor,
        entity="match_transitions",
        changes=[Change(key=str(r["transition_id"]), after=dict(r)) for r in rows],
    )


def record_transition(
    engine: Target,
    proposal_id: int,
    *,
    to_state: str,
    actor: str,
    role: str,
    note: str | None = None,
) -> None:
    """Move a proposal to ``to_state`` if the state machine lets ``role`` do it; keep the change."""
    from dongxi.market import check_transition  # the engines load numba: only when needed

    with _writing(engine) as session:
        proposal = session.get(MatchProposal, proposal_id, with_for_update=True)
        if proposal is None:
            raise NotFoundError(
                f"proposal {proposal_id} does not exist.", fix="List the run's proposals first."
            )
        check_transition(proposal.state, to_state, role)
        now = utcnow()
        before = {"state": proposal.state, "updated_at": proposal.updated_at}
        transition = MatchTransition(
            proposal_id=proposal_id,
            from_state=proposal.state,
            to_state=to_state,
            at=now,
            actor=actor,
            role=role,
            note=note,
        )
        session.add(transition)
        proposal.state = to_state
        proposal.updated_at = now
        session.flush()
        table = MatchTransition.__table__
        connection = session.connection()
        _log(
            connection,
            actor=actor,
            entity="match_transitions",
            changes=[
                Change(
                    key=str(transition.transition_id),
                    after={c.name: getattr(transition, c.name) for c in table.columns},
                )
            ],
        )
        _log(
            connection,
            actor=actor,
            entity="match_proposals",
            changes=[
                Change(
                    key=str(proposal_id),
                    before=before,
                    after={"state": to_state, "updated_at": now},
                )
            ],
        )


def record_outcome(
    engine: Target,
    proposal_id: int,
    *,
    hired: bool,
    actor: str,
    start_date: dt.date | None = None,
    monthly_wage: float | None = None,
    retained_3m: bool | None = None,
    retained_6m: bool | None = None,
) -> None:
    """Record (or update) what a confirmed or hired placement became."""
    with _writing(engine) as session:
        proposal = session.get(MatchProposal, proposal_id)
        if proposal is None:
            raise NotFoundError(f"proposal {proposal_id} does not exist.")
        if proposal.state not in {"confirmed", "hired", "not_hired"}:
            raise InputError(
                f"outcomes are recorded for confirmed placements; this one is '{proposal.state}'.",
                rule="state_machine",
                fix="Have the partner confirm the placement first.",
            )
        if monthly_wage is not None and monthly_wage < 0:
            raise InputError("monthly wage must be ≥ 0.", value=monthly_wage)
        if retained_6m and retained_3m is False:
            raise InputError(
                "retained at 6 months but not at 3 months.",
                fix="Correct the 3-month retention or the 6-month one.",
            )
        table = MatchOutcome.__table__
        existing = session.get(MatchOutcome, proposal_id)
        before = (
            None if existing is None else {c.name: getattr(existing, c.name) for c in table.columns}
        )
        outcome = existing or MatchOutcome(proposal_id=proposal_id)
        outcome.hired = hired
        outcome.start_date = start_date
        outcome.monthly_wage = monthly_wage
        outcome.retained_3m = retained_3m
        outcome.retained_6m = retained_6m
        outcome.recorded_at = utcnow()
        outcome.recorded_by = actor
        session.add(outcome)
        session.flush()
        _log(
            session.connection(),
            actor=actor,
            entity="match_outcomes",
            changes=[
                Change(
                    key=str(proposal_id),
                    before=before,
                    after={c.name: getattr(outcome, c.name) for c in table.columns},
                )
            ],
        )


def proposal_history(engine: Engine, run_ids: Iterable[str]) -> pd.DataFrame:
    """``proposal_id, run_id, seeker_id, offer_id, state, updated_at`` of the given runs' proposals.

    Ordered by ``proposal_id`` (the order they were proposed).
    """
    ids = list(run_ids)
    query = (
        sa.select(
            MatchProposal.proposal_id,
            MatchProposal.run_id,
            MatchProposal.seeker_id,
            MatchProposal.offer_id,
            MatchProposal.state,
            MatchProposal.updated_at,
        )
        .where(MatchProposal.run_id.in_(ids))
        .order_by(MatchProposal.proposal_id)
    )
    with translate_errors("Reading proposals"), engine.connect() as conn:
        return pd.read_sql(query, conn)


def round_runs(engine: Engine, run_id: str) -> dict[str, str]:
    """The runs of the round ``run_id`` belongs to, by kind of offer (``{kind: run_id}``).

    A round that matched several kinds stored one run per kind, each naming all of them in its
    report (``round_runs``); an older run names none and is its round's only run.
    Raises :class:`NotFoundError` when ``run_id`` does not exist.
    """
    with translate_errors("Reading match runs"), engine.connect() as conn:
        row = conn.execute(
            sa.select(MatchRun.kind, MatchRun.report_json).where(MatchRun.run_id == run_id)
        ).first()
    if row is None:
        raise NotFoundError(f"match run {run_id} does not exist.", fix="Check the run id.")
    listed = json.loads(row.report_json or "{}").get("round_runs") or []
    runs = {str(r["kind"]): str(r["run_id"]) for r in listed}
    return runs or {str(row.kind): run_id}


def run_lineage(engine: Engine, run_id: str) -> list[str]:
    """The ids of a run and of every earlier round it continues, oldest first.

    Raises :class:`NotFoundError` when ``run_id`` (or a parent it names) does not exist.
    """
    chain: list[str] = []
    with translate_errors("Reading match runs"), engine.connect() as conn:
        current: str | None = run_id
        while current is not None:
            row = conn.execute(
                sa.select(MatchRun.run_id, MatchRun.parent_run_id).where(MatchRun.run_id == current)
            ).first()
            if row is None:
                raise NotFoundError(f"match run {current} does not exist.", fix="Check the run id.")
            chain.append(current)
            current = row.parent_run_id
    return chain[::-1]


def proposal_in_scope(
    engine: Target,
    proposal_id: int,
    *,
    scope: Scope,
    by: Literal["seeker_region", "offer_partner"],
) -> bool:
    """Whether the proposal exists and lies inside ``scope``.

    ``by="seeker_region"``: the seeker's current need must lie in the scope's region (the village
    of the need's household when it names one, else the need's county);
    ``by="offer_partner"``: the offer's current version must belong to the scope's partner.
    """
    from dongxi.store.models import Household

    proposal = MatchProposal.__table__
    if by == "seeker_region":
        need = MarketNeed.__table__
        household = Household.__table__
        place = sa.func.coalesce(household.c.village_code, need.c.county_code)
        inside = sa.exists(
            sa.select(need.c.need_id)
            .select_from(
                need.outerjoin(household, household.c.household_code == need.c.household_code)
            )
            .where(
                need.c.seeker_id == proposal.c.seeker_id,
                need.c.valid_to.is_(None),
                scope.where_region(place),
            )
        )
    else:
        offer = MarketOffer.__table__
        inside = sa.exists(
            sa.select(offer.c.offer_row_id).where(
                offer.c.offer_id == proposal.c.offer_id,
                offer.c.valid_to.is_(None),
                scope.where_partner(offer.c.partner_code),
            )
        )
    query = sa.select(proposal.c.proposal_id).where(
        proposal.c.proposal_id == proposal_id, sa.true() if scope.unrestricted else inside
    )
    with translate_errors("Reading proposals"), _reading(engine) as conn:
        return conn.execute(query).first() is not None


def next_run_of_proposal(engine: Target, proposal_id: int) -> str | None:
    """The id of a later round continuing the run of this proposal (None when there is none)."""
    later = aliased(MatchRun)
    query = (
        sa.select(later.run_id)
        .join(MatchProposal, MatchProposal.run_id == later.parent_run_id)
        .where(MatchProposal.proposal_id == proposal_id)
        .order_by(later.created_at, later.run_id)
        .limit(1)
    )
    with translate_errors("Reading match runs"), _reading(engine) as conn:
        return conn.execute(query).scalar_one_or_none()


def latest_run(engine: Engine, *, kind: str = "job") -> dict[str, Any] | None:
    """The newest match run of ``kind`` (the latest round of the newest chain): its columns,
    with ``report`` (the round's stored tables, parsed) instead of ``report_json``; ``None``
    when the registry holds no run."""
    table = MatchRun.__table__
    query = (
        sa.select(table)
        .where(table.c.kind == kind)
        .order_by(table.c.created_at.desc(), table.c.round_no.desc())
        .limit(1)
    )
    with translate_errors("Reading match runs"), engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    out = {k: v for k, v in row.items() if k != "report_json"}
    out["report"] = json.loads(row["report_json"] or "{}")
    return out


def round_seekers(engine: Engine, run_id: str, *, kind: str = "employment") -> pd.DataFrame:
    """Every seeker a run matched over — the needs of ``kind`` current when the run was made —
    with the pair the run holds for them (if any), the offer's partner (and its name), place
    and wage, and the village of the seeker's household when the registry holds it.

    Columns ``seeker_id, household_code, county_code, status, village_code, offer_id, state,
    partner_code, partner_name, place_code, monthly_wage``; ordered by ``seeker_id``."""
    run = MatchRun.__table__
    need = MarketNeed.__table__
    offer = MarketOffer.__table__
    proposal = MatchProposal.__table__
    households = sa.table("households", sa.column("household_code"), sa.column("village_code"))
    partners = sa.table("partners", sa.column("partner_code"), sa.column("name"))
    with translate_errors("Reading a match run"), engine.connect() as conn:
        at = conn.execute(sa.select(run.c.created_at).where(run.c.run_id == run_id)).scalar()
        if at is None:
            raise NotFoundError(f"match run {run_id} does not exist.", fix="Check the run id.")

        def valid(table: sa.FromClause) -> sa.ColumnElement[bool]:
            return sa.and_(
                table.c.valid_from <= at, sa.or_(table.c.valid_to.is_(None), table.c.valid_to > at)
            )

        offers = (
            sa.select(
                offer.c.offer_id, offer.c.partner_code, offer.c.place_code, offer.c.monthly_wage
            )
            .where(valid(offer))
            .subquery()
        )
        pairs = (
            sa.select(proposal.c.seeker_id, proposal.c.offer_id, proposal.c.state)
            .where(proposal.c.run_id == run_id)
            .subquery()
        )
        query = (
            sa.select(
                need.c.seeker_id,
                need.c.household_code,
                need.c.county_code,
                need.c.status,
                households.c.village_code,
                pairs.c.offer_id,
                pairs.c.state,
                offers.c.partner_code,
                partners.c.name.label("partner_name"),
                offers.c.place_code,
                offers.c.monthly_wage,
            )
            .select_from(need)
            .outerjoin(households, households.c.household_code == need.c.household_code)
            .outerjoin(pairs, pairs.c.seeker_id == need.c.seeker_id)
            .outerjoin(offers, offers.c.offer_id == pairs.c.offer_id)
            .outerjoin(partners, partners.c.partner_code == offers.c.partner_code)
            .where(need.c.kind == kind, valid(need))
            .order_by(need.c.seeker_id)
        )
        return pd.read_sql(query, conn)
