"""Repository functions: get, list, create and update the main records of the registry.

The use cases (:mod:`dongxi.services`) call these; they never build SQL. Reads of households and
people take the caller's :class:`~dongxi.store.scope.Scope` (keyword, required): a row outside it
raises ``NotFoundError`` exactly like a missing key, and listings leave it out. Every
create/update writes a change-log entry in the same transaction; updates are optimistic: pass
``expected_version`` (the ``row_version`` the user saw) to refuse an edit based on a stale copy,
and a concurrent commit between read and write is refused too
(:class:`dongxi.errors.ConflictError` either way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.errors import ConflictError, InputError, NotFoundError
from dongxi.intake.columns import KINDS, TABLE_KINDS, check_kind, key_text
from dongxi.pii.protect import get_protector
from dongxi.store._changelog import REDACTED_FIELDS, change_history, record_change
from dongxi.store._keys import verify_keys
from dongxi.store.base import Base
from dongxi.store.db import translate_errors
from dongxi.store.models import (
    Helper,
    Household,
    HouseholdStatus,
    Income,
    IncomeMonth,
    Measure,
    Partner,
    Person,
)
from dongxi.store.scope import Scope

__all__ = [
    "ENTITIES",
    "changed_fields_since",
    "check_fields",
    "create_household",
    "create_person",
    "create_record",
    "get_household",
    "get_person",
    "get_record",
    "list_households",
    "record_values",
    "reveal_id_number",
    "update_household",
    "update_person",
    "update_record",
    "upsert_income",
]

M = TypeVar("M", bound=Base)

#: Entity name (as in the change log) → model.
ENTITIES: dict[str, type[Base]] = {
    "households": Household,
    "people": Person,
    "income": Income,
    "income_months": IncomeMonth,
    "measures": Measure,
    "partners": Partner,
    "helpers": Helper,
}
_HIDDEN = frozenset({"created_at", "updated_at", "row_version", "id_encrypted"})
_PROTECTED = frozenset({"id_hash", "id_encrypted", "id_masked", "row_version"})


def _columns(model: type[Base]) -> list[str]:
    return [c.key for c in sa.inspect(model).column_attrs]


def _keys(model: type[Base]) -> list[str]:
    """The key columns: the kind's key (:data:`TABLE_KINDS`), else the primary key."""
    entity = _entity(model)
    if entity in KINDS:
        return list(TABLE_KINDS[check_kind(entity)].key)
    return [str(c.key) for c in sa.inspect(model).primary_key]


def record_values(record: Base) -> dict[str, Any]:
    """The record's column values (without timestamps, version and ciphertext)."""
    return {key: getattr(record, key) for key in _columns(type(record)) if key not in _HIDDEN}


def _key_text(record: Base) -> str:
    return key_text([getattr(record, key) for key in _keys(type(record))])


def _entity(model: type[Base]) -> str:
    return str(model.__tablename__)


def check_fields(model: type[Base], data: Mapping[str, Any]) -> None:
    allowed = set(_columns(model)) - {"created_at", "updated_at"} - _PROTECTED
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InputError(
            f"Unknown or read-only fields for {_entity(model)}: {', '.join(unknown)}.",
            column=unknown[0],
            rule="unknown_field",
            fix=f"Use only these fields: {', '.join(sorted(allowed))}.",
        )


def _not_found(model: type[Base], key: Any) -> NotFoundError:
    return NotFoundError(
        f"No {_entity(model)} record with key {key!r}.",
        fix="Check the key, or list the records first.",
    )


def changed_fields_since(session: Session, record: Base, version: int) -> list[str]:
    """The fields of ``record`` whose values differ between its ``version`` and now.

    Read from the change log: every logged update of a versioned record bumped ``row_version``
    once, so the last ``row_version - version`` updates are those made since. A field the log
    keeps redacted (a name, a birth date) may change without its logged form changing; an update
    that shows no visible difference names the editable redacted fields it holds.
    """
    current = getattr(record, "row_version", None)
    if current is None or version >= current:
        return []
    entries = [
        e
        for e in change_history(
            session.connection(), entity=_entity(type(record)), key=_key_text(record)
        )
        if e["action"] == "update"
    ][-(current - version) :]
    changed: set[str] = set()
    for entry in entries:
        before, after = entry["before"] or {}, entry["after"] or {}
        seen = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        changed |= seen or {k for k in before if k in REDACTED_FIELDS and k not in _PROTECTED}
    return sorted(changed)


def get_record(session: Session, *, model: type[M], key: Any) -> M:
    """The record of ``model`` with primary key ``key`` (a value or a tuple)."""
    with translate_errors(f"Reading {_entity(model)}"):
        record = session.get(model, key)
    if record is None:
        raise _not_found(model, key)
    return record


def create_record(session: Session, *, actor: str, model: type[M], data: Mapping[str, Any]) -> M:
    """Insert one record and log it; refuses unknown fields and existing keys."""
    return _create(session, actor=actor, model=model, data=data, internal={})


def _create(
    session: Session,
    *,
    actor: str,
    model: type[M],
    data: Mapping[str, Any],
    internal: Mapping[str, Any],
) -> M:
    check_fields(model, data)
    fields = {**data, **internal}
    key = tuple(fields.get(k) for k in _keys(model))
    if None in key:
        raise InputError(
            f"The key of a new {_entity(model)} record is incomplete.",
            column=_keys(model)[key.index(None)],
            rule="required",
            fix=f"Give {', '.join(_keys(model))}.",
        )
    with translate_errors(f"Creating {_entity(model)}"):
        if session.get(model, key if len(key) > 1 else key[0]) is not None:
            raise InputError(
                f"A {_entity(model)} record with this key exists already.",
                value=key_text(key) if model is not Person else None,
                rule="duplicate",
                fix="Update the existing record instead of creating it again.",
            )
        record = model(**fields)
        session.add(record)
        session.flush()
        record_change(
            session.connection(),
            actor=actor,
            action="create",
            entity=_entity(model),
            key=_key_text(record),
            after=record_values(record),
        )
    return record


def update_record(
    session: Session,
    *,
    actor: str,
    model: type[M],
    key: Any,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> M:
    """Change fields of one record (optimistic locking) and log before/after."""
    check_fields(model, changes)
    record = get_record(session, model=model, key=key)
    version = getattr(record, "row_version", None)
    if expected_version is not None and version != expected_version:
        fields = changed_fields_since(session, record, expected_version)
        raise ConflictError(
            f"The {_entity(model)} record was changed since you read it "
            f"(version {expected_version}, now {version})"
            + (f"; changed: {', '.join(fields)}." if fields else "."),
            fix="Reload the record, re-apply your change and save again.",
            fields=fields,
        )
    before = record_values(record)
    for name, value in changes.items():
        setattr(record, name, value)
    with translate_errors(f"Updating {_entity(model)}"):
        session.flush()
        after = record_values(record)
        if after != before:
            record_change(
                session.connection(),
                actor=actor,
                action="update",
                entity=_entity(model),
                key=_key_text(record),
                before=before,
                after=after,
            )
    return record


# --- households -------------------------------------------------------------------------------


def get_household(session: Session, *, household_code: str, scope: Scope) -> Household:
    """One household by its code, if it lies inside ``scope`` (else ``NotFoundError``)."""
    query = sa.select(Household).where(
        Household.household_code == household_code, scope.where_region(Household.village_code)
    )
    with translate_errors("Reading households"):
        household = session.scalars(query).one_or_none()
    if household is None:
        raise _not_found(Household, household_code)
    return household


def list_households(
    session: Session,
    *,
    scope: Scope,
    county_code: str | None = None,
    village_code: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Household]:
    """Households inside ``scope`` filtered by county/village/status, ordered by code."""
    query = (
        sa.select(Household)
        .where(scope.where_region(Household.village_code))
        .order_by(Household.household_code)
    )
    if county_code:
        query = query.where(Household.village_code.startswith(county_code, autoescape=True))
    if village_code:
        query = query.where(Household.village_code == village_code)
    if status:
        query = query.where(Household.status == status)
    with translate_errors("Listing households"):
        return session.scalars(query.limit(limit).offset(offset)).all()


def _status_entry(
    session: Session, household: Household, effective_date: dt.date, reason: str | None
) -> None:
    session.add(
        HouseholdStatus(
            household_code=household.household_code,
            status=household.status,
            monitoring_category=household.monitoring_category,
            effective_date=effective_date,
            reason=reason,
        )
    )


def create_household(
    session: Session,
    *,
    actor: str,
    data: Mapping[str, Any],
    effective_date: dt.date | None = None,
    reason: str | None = None,
) -> Household:
    """Insert a household and the first entry of its status history."""
    household = create_record(session, actor=actor, model=Household, data=data)
    with translate_errors("Creating households"):
        _status_entry(session, household, effective_date or dt.date.today(), reason)
        session.flush()
    return household


def update_household(
    session: Session,
    *,
    actor: str,
    household_code: str,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
    effective_date: dt.date | None = None,
    reason: str | None = None,
) -> Household:
    """Change a household; a change of status adds an entry to its status history."""
    household = get_record(session, model=Household, key=household_code)
    old_state = (household.status, household.monitoring_category)
    household = update_record(
        session,
        actor=actor,
        model=Household,
        key=household_code,
        changes=changes,
        expected_version=expected_version,
    )
    if (household.status, household.monitoring_category) != old_state:
        with translate_errors("Updating households"):
            _status_entry(session, household, effective_date or dt.date.today(), reason)
            session.flush()
    return household


# --- people -----------------------------------------------------------------------------------


def get_person(
    session: Session, *, scope: Scope, id_number: str | None = None, id_hash: str | None = None
) -> Person:
    """One person by ID number (hashed for the look-up) or by its keyed hash, inside ``scope``.

    A person belongs to the scope of their household's village.
    """
    if (id_number is None) == (id_hash is None):
        raise InputError(
            "Give exactly one of id_number and id_hash.", fix="Pass one of them, not both."
        )
    if id_hash is not None:
        key = id_hash
    else:
        protector = get_protector()
        verify_keys(session.connection(), protector, keys=("lookup",), record=False)
        key = protector.hash(str(id_number))
    query = sa.select(Person).where(Person.id_hash == key)
    if not scope.unrestricted:
        query = query.join(Household, Household.household_code == Person.household_code).where(
            scope.where_region(Household.village_code)
        )
    with translate_errors("Reading people"):
        person = session.scalars(query).one_or_none()
    if person is None:
        raise _not_found(Person, key)
    return person


def create_person(
    session: Session, *, actor: str, id_number: str, data: Mapping[str, Any]
) -> Person:
    """Insert a person: the ID number is validated, encrypted, hashed and masked."""
    protector = get_protector()
    verify_keys(session.connection(), protector)  # before anything is written
    protected = protector.protect(id_number, column="id_number")
    return _create(
        session,
        actor=actor,
        model=Person,
        data=data,
        internal={
            "id_hash": protected.id_hash,
            "id_encrypted": protected.id_encrypted,
            "id_masked": protected.id_masked,
        },
    )


def update_person(
    session: Session,
    *,
    actor: str,
    id_hash: str,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> Person:
    """Change a person's fields (not the ID number: that is a new person).

    Refused before writing when the configured keys are not the registry's."""
    verify_keys(session.connection(), get_protector())
    return update_record(
        session,
        actor=actor,
        model=Person,
        key=id_hash,
        changes=changes,
        expected_version=expected_version,
    )


def reveal_id_number(session: Session, *, actor: str, id_hash: str, reason: str) -> str:
    """The clear ID number of one person; the disclosure is written to the change log."""
    if not reason.strip():
        raise InputError(
            "Showing an ID number in clear needs a reason.",
            column="reason",
            rule="required",
            fix="Say why the clear number is needed (it is recorded in the change log).",
        )
    protector = get_protector()
    verify_keys(session.connection(), protector)
    person = get_record(session, model=Person, key=id_hash)
    number = protector.decrypt(person.id_encrypted, id_hash=person.id_hash)
    with translate_errors("Recording an ID disclosure"):
        record_change(
            session.connection(),
            actor=actor,
            action="unmask",
            entity="people",
            key=id_hash,
            after={"reason": reason},
        )
    return number


# --- income -----------------------------------------------------------------------------------

_INCOME_PARTS = ("wage_income", "operating_income", "property_income", "transfer_income")


def upsert_income(
    session: Session,
    *,
    actor: str,
    household_code: str,
    year: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Income:
    """Insert or update one year of a household's income ledger.

    ``net_income_per_capita`` is computed from the parts when absent and checked (±1 yuan) when
    given.
    """
    fields = dict(data)
    try:
        total = sum(float(fields[name]) for name in _INCOME_PARTS)
        net = (total - float(fields["production_costs"])) / int(fields["household_size"])
    except KeyError as exc:
        raise InputError(
            "An income record needs every income part, production costs and household size.",
            column=str(exc.args[0]),
            rule="required",
            fix=f"Give {', '.join((*_INCOME_PARTS, 'production_costs', 'household_size'))}.",
        ) from exc
    except ZeroDivisionError as exc:
        raise InputError(
            "The household size must be at least 1.",
            column="household_size",
            value=0,
            rule="household_size",
            fix="Give the number of household members.",
        ) from exc
    given = fields.get("net_income_per_capita")
    if given is None:
        fields["net_income_per_capita"] = round(net, 2)
    elif abs(float(given) - net) > 1.0:
        raise InputError(
            f"The net income per person does not agree with the parts (computed {net:.2f} yuan).",
            column="net_income_per_capita",
            value=given,
            rule="net_income_per_capita",
            fix="Correct the parts or leave the net income empty to have it computed.",
        )
    with translate_errors("Reading income"):
        existing = session.get(Income, (household_code, year))
    if existing is None:
        return create_record(
            session,
            actor=actor,
            model=Income,
            data={**fields, "household_code": household_code, "year": year},
        )
    return update_record(
        session,
        actor=actor,
        model=Income,
        key=(household_code, year),
        changes=fields,
        expected_version=expected_version,
    )
