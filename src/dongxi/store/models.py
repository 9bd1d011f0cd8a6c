"""The registry's tables as SQLAlchemy models (columns per ``docs/data-dictionary.md``).

Codes are strings; enumerations are stored as their English code and checked by named CHECK
constraints (the allowed values are the codes of the vocabularies of :mod:`dongxi.vocab`).
Natural keys (:data:`dongxi.intake.columns.TABLE_KINDS`) are the primary keys, so bulk upserts
need no id look-ups. People are keyed by ``id_hash``, the keyed HMAC of the ID number; the
number itself is only stored encrypted (``id_encrypted``) and masked (``id_masked``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dongxi.store.base import Base, Timestamped, Versioned
from dongxi.vocab import (
    BATCHES,
    CAUSES,
    EDUCATION,
    EMPLOYMENT,
    FUND_SOURCES,
    HEALTH,
    HOUSEHOLD_STATUSES,
    HOUSING_GRADES,
    LABOUR_CAPACITY,
    MEASURE_STATUSES,
    MONITORING_CATEGORIES,
    PAIRING_LEVELS,
    PARTNER_KINDS,
    POLICY_STATUSES,
    REGION_LEVELS,
    RELATIONS,
    SCHOOL_STATUS,
    SEXES,
    SIDES,
    Vocabulary,
)

__all__ = [
    "ChangeLogEntry",
    "ChangeLogSeal",
    "Helper",
    "Household",
    "HouseholdStatus",
    "Income",
    "IncomeMonth",
    "Measure",
    "Pairing",
    "Partner",
    "Person",
    "PolicyParameter",
    "Region",
    "RegionChange",
    "Snapshot",
]


def _in(column: str, values: Vocabulary, name: str, *, nullable: bool = False) -> Any:
    """A named CHECK constraint ``column IN (codes of values)``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    text = f"{column} IN ({quoted})"
    if nullable:
        text = f"{column} IS NULL OR {text}"
    return sa.CheckConstraint(text, name=name)


_BOOL = sa.Boolean(create_constraint=False)


class Region(Base):
    """A division (GB/T 2260 / NBS code) of one vintage."""

    __tablename__ = "regions"
    __table_args__ = (
        _in("level", REGION_LEVELS, "level"),
        _in("side", SIDES, "side", nullable=True),
        sa.Index("ix_regions_parent", "vintage", "parent_code"),
        sa.Index("ix_regions_level", "vintage", "level"),
    )

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    vintage: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(10))
    parent_code: Mapped[str | None] = mapped_column(sa.String(12))
    side: Mapped[str | None] = mapped_column(sa.String(4))


class RegionChange(Base):
    """A county-level code change between the 2017 and 2023 vintages."""

    __tablename__ = "region_changes"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    code_2017: Mapped[str | None] = mapped_column(sa.String(12))
    code_2023: Mapped[str | None] = mapped_column(sa.String(12))
    name_2017: Mapped[str | None] = mapped_column(sa.String(100))
    name_2023: Mapped[str | None] = mapped_column(sa.String(100))
    change: Mapped[str] = mapped_column(sa.String(40))


class Pairing(Base):
    """An East–West pairing (结对): east region ↔ west region, level and period."""

    __tablename__ = "pairings"
    __table_args__ = (
        _in("level", PAIRING_LEVELS, "level"),
        sa.UniqueConstraint("east_code", "west_code", "level", "period_start"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    east_code: Mapped[str] = mapped_column(sa.String(12))
    east_name: Mapped[str | None] = mapped_column(sa.String(100))
    west_code: Mapped[str] = mapped_column(sa.String(12), index=True)
    west_name: Mapped[str | None] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(10))
    period_start: Mapped[int] = mapped_column(sa.Integer)
    period_end: Mapped[int | None] = mapped_column(sa.Integer)
    confidence: Mapped[str | None] = mapped_column(sa.String(20))
    source: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)


class Helper(Versioned, Timestamped, Base):
    """A person responsible for helping households (帮扶责任人)."""

    __tablename__ = "helpers"
    __table_args__ = (_in("side", SIDES, "side"),)

    helper_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    unit: Mapped[str | None] = mapped_column(sa.String(200))
    side: Mapped[str] = mapped_column(sa.String(4))
    region_code: Mapped[str | None] = mapped_column(sa.String(12))


class Partner(Versioned, Timestamped, Base):
    """An east-side enterprise, organisation or office that helps (东部帮扶主体)."""

    __tablename__ = "partners"
    __table_args__ = (_in("kind", PARTNER_KINDS, "kind"),)

    partner_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))
    region_code: Mapped[str | None] = mapped_column(sa.String(12))
    sector: Mapped[str | None] = mapped_column(sa.String(100))
    contact: Mapped[str | None] = mapped_column(sa.String(200))


class Household(Versioned, Timestamped, Base):
    """A household of the registry (建档立卡户 or general household); the current state."""

    __tablename__ = "households"
    __table_args__ = (
        _in("status", HOUSEHOLD_STATUSES, "status"),
        _in("monitoring_category", MONITORING_CATEGORIES, "monitoring_category", nullable=True),
        _in("primary_cause", CAUSES, "primary_cause", nullable=True),
        _in("housing_grade", HOUSING_GRADES, "housing_grade"),
        sa.CheckConstraint(
            "(status = 'monitored') = (monitoring_category IS NOT NULL)", name="monitoring"
        ),
        sa.CheckConstraint(
            "year_exited IS NULL OR year_registered IS NULL OR year_exited >= year_registered",
            name="years",
        ),
    )

    household_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    village_code: Mapped[str] = mapped_column(sa.String(12), index=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    monitoring_category: Mapped[str | None] = mapped_column(sa.String(20))
    year_registered: Mapped[int | None] = mapped_column(sa.Integer)
    year_exited: Mapped[int | None] = mapped_column(sa.Integer)
    primary_cause: Mapped[str | None] = mapped_column(sa.String(20))
    poverty_causes: Mapped[str | None] = mapped_column(sa.String(200))
    housing_grade: Mapped[str] = mapped_column(sa.String(1))
    water_quantity_ok: Mapped[bool] = mapped_column(_BOOL)
    water_quality_ok: Mapped[bool] = mapped_column(_BOOL)
    water_convenience_ok: Mapped[bool] = mapped_column(_BOOL)
    water_guarantee_ok: Mapped[bool] = mapped_column(_BOOL)
    road_access: Mapped[bool] = mapped_column(_BOOL)
    electricity: Mapped[bool] = mapped_column(_BOOL)
    helper_id: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("helpers.helper_id", ondelete="SET NULL"), index=True
    )
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)

    @property
    def county_code(self) -> str:
        """The county: the first 6 digits of the village code."""
        return self.village_code[:6]


class HouseholdStatus(Base):
    """One entry of a household's status history (the households row holds the latest)."""

    __tablename__ = "household_status"
    __table_args__ = (
        _in("status", HOUSEHOLD_STATUSES, "status"),
        _in("monitoring_category", MONITORING_CATEGORIES, "monitoring_category", nullable=True),
        sa.Index("ix_household_status_household", "household_code", "effective_date"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("households.household_code", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(sa.String(20))
    monitoring_category: Mapped[str | None] = mapped_column(sa.String(20))
    effective_date: Mapped[dt.date] = mapped_column(sa.Date)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()
    )


class Person(Versioned, Timestamped, Base):
    """A household member. The ID number is stored encrypted, masked and as a keyed hash."""

    __tablename__ = "people"
    __table_args__ = (
        _in("relation", RELATIONS, "relation"),
        _in("sex", SEXES, "sex"),
        _in("education", EDUCATION, "education"),
        _in("school_status", SCHOOL_STATUS, "school_status"),
        _in("health", HEALTH, "health"),
        _in("labour_capacity", LABOUR_CAPACITY, "labour_capacity"),
        _in("employment", EMPLOYMENT, "employment"),
        sa.CheckConstraint(
            "disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4", name="disability_grade"
        ),
        sa.CheckConstraint("monthly_wage IS NULL OR monthly_wage >= 0", name="monthly_wage"),
        sa.CheckConstraint(
            "months_worked IS NULL OR months_worked BETWEEN 0 AND 12", name="months_worked"
        ),
        sa.UniqueConstraint("household_code", "member_no"),
        # search by name or its beginning (LIKE 'x%'): text_pattern_ops makes PostgreSQL's index
        # usable for prefixes whatever the database's collation
        sa.Index("ix_people_name", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    id_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    id_masked: Mapped[str] = mapped_column(sa.String(18))
    household_code: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("households.household_code", ondelete="CASCADE")
    )
    member_no: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(100))
    relation: Mapped[str] = mapped_column(sa.String(20))
    sex: Mapped[str] = mapped_column(sa.String(6))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    ethnicity: Mapped[str | None] = mapped_column(sa.String(40))
    education: Mapped[str] = mapped_column(sa.String(20))
    school_status: Mapped[str] = mapped_column(sa.String(20))
    health: Mapped[str] = mapped_column(sa.String(20))
    disability_grade: Mapped[int | None] = mapped_column(sa.Integer)
    medical_insurance: Mapped[bool] = mapped_column(_BOOL)
    pension_insurance: Mapped[bool] = mapped_column(_BOOL)
    labour_capacity: Mapped[str] = mapped_column(sa.String(20))
    employment: Mapped[str] = mapped_column(sa.String(20))
    work_region_code: Mapped[str | None] = mapped_column(sa.String(12))
    sector: Mapped[str | None] = mapped_column(sa.String(40))
    monthly_wage: Mapped[float | None] = mapped_column(sa.Float)
    months_worked: Mapped[int | None] = mapped_column(sa.Integer)
    skills: Mapped[str | None] = mapped_column(sa.String(400))


class Income(Versioned, Timestamped, Base):
    """The income ledger (收入台账): one household, one year, yuan per household-year."""

    __tablename__ = "income"
    __table_args__ = (
        sa.CheckConstraint("year BETWEEN 2010 AND 2035", name="year"),
        sa.CheckConstraint(
            "wage_income >= 0 AND operating_income >= 0 AND property_income >= 0 "
            "AND transfer_income >= 0 AND production_costs >= 0",
            name="non_negative",
        ),
        sa.CheckConstraint("household_size >= 1", name="household_size"),
    )

    household_code: Mapped[str] = mapped_column(
        sa.String(32),
        sa.ForeignKey("households.household_code", ondelete="CASCADE"),
        primary_key=True,
    )
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    wage_income: Mapped[float] = mapped_column(sa.Float)
    operating_income: Mapped[float] = mapped_column(sa.Float)
    property_income: Mapped[float] = mapped_column(sa.Float)
    transfer_income: Mapped[float] = mapped_column(sa.Float)
    production_costs: Mapped[float] = mapped_column(sa.Float)
    household_size: Mapped[int] = mapped_column(sa.Integer)
    net_income_per_capita: Mapped[float] = mapped_column(sa.Float)


class IncomeMonth(Versioned, Timestamped, Base):
    """Monthly income and rigid spending of a household (yuan per household-month), the basis
    of the monitoring's "income over the last 12 months" (per person: the sum of ``net_income``
    over the mean of ``household_size``)."""

    __tablename__ = "income_months"
    __table_args__ = (
        sa.CheckConstraint(
            "medical_spending >= 0 AND schooling_spending >= 0 AND disaster_loss >= 0",
            name="non_negative",
        ),
        sa.CheckConstraint("household_size >= 1", name="household_size"),
    )

    household_code: Mapped[str] = mapped_column(
        sa.String(32),
        sa.ForeignKey("households.household_code", ondelete="CASCADE"),
        primary_key=True,
    )
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # 'YYYY-MM'
    net_income: Mapped[float] = mapped_column(sa.Float)
    medical_spending: Mapped[float] = mapped_column(sa.Float)
    schooling_spending: Mapped[float] = mapped_column(sa.Float)
    disaster_loss: Mapped[float] = mapped_column(sa.Float)
    household_size: Mapped[int] = mapped_column(sa.Integer)


class Measure(Versioned, Timestamped, Base):
    """An assistance measure (帮扶措施) for a household or a region."""

    __tablename__ = "measures"
    __table_args__ = (
        _in("batch", BATCHES, "batch"),
        _in("fund_source", FUND_SOURCES, "fund_source"),
        _in("status", MEASURE_STATUSES, "status"),
        sa.CheckConstraint("funds >= 0", name="funds"),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates"
        ),
        sa.CheckConstraint("household_code IS NOT NULL OR region_code IS NOT NULL", name="target"),
    )

    measure_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    household_code: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("households.household_code", ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str | None] = mapped_column(sa.String(12))
    batch: Mapped[str] = mapped_column(sa.String(20))
    subtype: Mapped[str] = mapped_column(sa.String(60))
    helper_id: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("helpers.helper_id", ondelete="SET NULL")
    )
    partner_code: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("partners.partner_code", ondelete="SET NULL")
    )
    funds: Mapped[float] = mapped_column(sa.Float)
    fund_source: Mapped[str] = mapped_column(sa.String(20))
    start_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20))
    outcome: Mapped[str | None] = mapped_column(sa.Text)


class PolicyParameter(Base):
    """A versioned policy value (poverty line, monitoring line, criteria) with its source."""

    __tablename__ = "policy_parameters"
    __table_args__ = (
        _in("status", POLICY_STATUSES, "status"),
        sa.UniqueConstraint("name", "scope", "effective_from"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    scope: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[Any] = mapped_column(sa.JSON)
    unit: Mapped[str | None] = mapped_column(sa.String(40))
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)
    effective_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(12))
    source: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)


class ChangeLogEntry(Base):
    """One entry of the append-only, hash-chained change log (who, when, what).

    ``before``/``after`` are canonical JSON text (sorted keys, ID numbers masked). ``entry_hash``
    is SHA-256 over ``prev_hash`` and the entry's own content; ``prev_hash`` is unique, so the
    chain cannot fork. Database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "change_log"
    # one record's history (a household's page, `dongxi history`) without scanning the log
    __table_args__ = (sa.Index("ix_change_log_entity_key", "entity", "entity_key", "seq"),)

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[str] = mapped_column(sa.String(32))
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(20))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_key: Mapped[str] = mapped_column(sa.String(200))
    before: Mapped[str | None] = mapped_column(sa.Text)
    after: Mapped[str | None] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(sa.String(64))


class ChangeLogSeal(Base):
    """A keyed seal of the change log's head, written by every write transaction (append-only).

    ``mac`` is HMAC-SHA-256 over ``seq`` and ``entry_hash`` with a key derived from
    ``DONGXI_LOOKUP_KEY`` (:mod:`dongxi.store._seal`): re-hashing the chain without the key no
    longer matches the seals. Database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "change_log_seals"

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    entry_hash: Mapped[str] = mapped_column(sa.String(64))
    mac: Mapped[str] = mapped_column(sa.String(64))
    sealed_at: Mapped[str] = mapped_column(sa.String(32))


class Snapshot(Base):
    """A frozen copy of the registry written as Parquet (see ``create_snapshot``)."""

    __tablename__ = "snapshots"

    snapshot_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    as_of: Mapped[dt.date | None] = mapped_column(sa.Date)
    label: Mapped[str | None] = mapped_column(sa.String(200))
    folder: Mapped[str] = mapped_column(sa.Text)
    schema_revision: Mapped[str | None] = mapped_column(sa.String(40))
    row_counts: Mapped[Any] = mapped_column(sa.JSON)
    manifest_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: the change log's head when the snapshot was read (``verify_chain`` checks it is still there)
    log_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    log_head: Mapped[str | None] = mapped_column(sa.String(64))
