"""Use cases: edit a household or a person, directly or through a change request (maker–checker).

An edit names the ``row_version`` the user saw and the new field values. A role listed in the
setting ``DONGXI_DIRECT_EDIT_ROLES`` applies it at once (one transaction, change-log entry,
optimistic locking: a stale version is :class:`~dongxi.errors.ConflictError` naming the fields
that changed since). Any other role with ``registry:write`` (village and township officers by
default) creates a change request instead, which the next level up approves or rejects:

- a reviewer holds ``registry:write``, the record lies inside their scope, they are not the
  proposer, and their level (:data:`LEVELS`) is at least the proposer's plus one (a township
  officer reviews a village officer's request; a county officer or above reviews both);
- approving applies the change in the same transaction; when the record changed since the
  proposal the request goes to ``conflict`` and nothing is written to the record;
- only the proposer may withdraw a request that is still ``submitted``.

The life cycle itself (states, allowed transitions) is data in :mod:`dongxi.store._changes`.
Showing a request's diff is an audited read of the record (change log action ``read``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from dongxi.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from dongxi.services.principal import Principal

if TYPE_CHECKING:
    from dongxi.store.base import Base
    from dongxi.store.change_models import ChangeRequest

__all__ = [
    "EDITABLE_ENTITIES",
    "LEVELS",
    "ChangeRequestView",
    "EditOutcome",
    "RequestLists",
    "approve",
    "edit_household",
    "edit_person",
    "list_requests",
    "reject",
    "request_detail",
    "withdraw",
]

#: Rank of each west officer's level (and the administrator's) for review: a request needs a
#: reviewer of at least the proposer's level plus one (capped at the top level).
LEVELS: dict[str, int] = {
    "village_officer": 1,
    "township_officer": 2,
    "county_officer": 3,
    "city_officer": 4,
    "province_officer": 5,
    "admin": 6,
}
_TOP = max(LEVELS.values())
#: Entities an edit may change, and the fields that place the record (its key, its village or
#: household): these are not edited here (a move is an import).
EDITABLE_ENTITIES: dict[str, frozenset[str]] = {
    "households": frozenset({"household_code", "village_code"}),
    "people": frozenset({"id_hash", "household_code"}),
}
_ID_LIKE = re.compile(r"[0-9]{17}[0-9Xx]")
_MAX_COMMENT = 500


@dataclass(frozen=True)
class EditOutcome:
    """The result of an edit: applied at once (``row_version`` the new version) or a change
    request created (``request_id``)."""

    applied: bool
    row_version: int | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class ChangeRequestView:
    """A change request as shown to a user; ``diff`` maps each field to its current value and
    the proposed one (only in :func:`request_detail`)."""

    id: int
    entity: str
    entity_key: str
    region_code: str
    proposed_by: str
    proposer_role: str
    base_version: int
    fields: list[str]
    state: str
    comment: str | None
    reviewer: str | None
    review_comment: str | None
    created_at: dt.datetime
    reviewed_at: dt.datetime | None
    closed_at: dt.datetime | None
    diff: dict[str, dict[str, Any]] | None = None
    current_version: int | None = None
    conflict_fields: list[str] | None = None


@dataclass(frozen=True)
class RequestLists:
    """The requests a user made, and those waiting for their review (both inside their scope)."""

    mine: list[ChangeRequestView]
    to_review: list[ChangeRequestView]


def _model(entity: str) -> type[Base]:
    from dongxi.store._repository import ENTITIES

    if entity not in EDITABLE_ENTITIES:
        raise InputError(
            "This kind of record cannot be edited through a change request.",
            value=entity,
            rule="entity",
            fix=f"Edit one of: {', '.join(EDITABLE_ENTITIES)}.",
        )
    return ENTITIES[entity]


def _plain(value: Any) -> Any:
    """A value as JSON holds it (dates as ISO text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _typed(entity: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The proposed values checked against the columns and converted to their Python types.

    Refuses an empty change, unknown, read-only and placing fields, values of the wrong type and
    any text that holds an ID number."""
    from dongxi.store._repository import check_fields

    model = _model(entity)
    if not changes:
        raise InputError(
            "The edit changes no field.",
            column="changes",
            rule="required",
            fix="Give at least one field and its new value.",
        )
    fixed = sorted(set(changes) & EDITABLE_ENTITIES[entity])
    if fixed:
        raise InputError(
            f"The field {fixed[0]} places the record and cannot be edited here.",
            column=fixed[0],
            rule="read_only",
            fix="Move a record between villages or households with an import.",
        )
    check_fields(model, changes)
    table = model.__table__
    out: dict[str, Any] = {}
    for name, value in changes.items():
        column = table.c[name]
        if value is None:
            if not column.nullable:
                raise InputError(
                    f"The field {name} cannot be empty.", column=name, rule="required",
                    fix="Give a value.",
                )  # fmt: skip
            out[name] = None
            continue
        kind = column.type.python_type
        ok = True
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif kind is dt.date:
            try:
                value = dt.date.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            ok = value is not None
        elif kind is str:
            ok = isinstance(value, str)
            if ok and any(_is_id(m) for m in _ID_LIKE.findall(value)):
                raise InputError(
                    f"The field {name} holds an ID number.",
                    column=name,
                    rule="no_id_number",
                    fix="ID numbers are never edited or written into other fields.",
                )
        if not ok:
            raise InputError(
                f"The field {name} needs a value of type {kind.__name__}.",
                column=name,
                rule="type",
                fix="Give the value in the type the API's schema names (dates as YYYY-MM-DD).",
            )
        out[name] = value
    return out


def _is_id(text: str) -> bool:
    from dongxi.pii.idnumber import is_valid_id

    return is_valid_id(text.upper())


def _direct(principal: Principal) -> bool:
    from dongxi.settings import get_settings

    return principal.role in get_settings().direct_edit_role_set


def _needed_level(proposer_role: str) -> int:
    return min(LEVELS.get(proposer_role, 0) + 1, _TOP)


def _is_reviewer(principal: Principal, request: ChangeRequest) -> bool:
    return (
        principal.can("registry:write")
        and principal.name != request.proposed_by
        and LEVELS.get(principal.role, 0) >= _needed_level(request.proposer_role)
    )


def _comment(comment: str | None, *, required: bool = False) -> str | None:
    text = (comment or "").strip()
    if required and not text:
        raise InputError(
            "A comment is required.",
            column="comment",
            rule="required",
            fix="Say why (the comment is kept with the request and in the change log).",
        )
    if len(text) > _MAX_COMMENT:
        raise InputError(
            f"The comment is longer than {_MAX_COMMENT} characters.",
            column="comment",
            rule="length",
            fix="Shorten it.",
        )
    return text or None


def _edit(
    session: Session,
    principal: Principal,
    *,
    entity: str,
    key: str,
    expected_version: int,
    changes: Mapping[str, Any],
    comment: str | None,
) -> EditOutcome:
    from dongxi.store import _repository as repo
    from dongxi.store._changes import add_request

    principal.require("registry:write")
    typed = _typed(entity, changes)
    note = _comment(comment)
    if entity == "households":
        record: Any = repo.get_household(session, household_code=key, scope=principal.scope)
        village = record.village_code
    else:
        record = repo.get_person(session, scope=principal.scope, id_hash=key)
        village = repo.get_household(
            session, household_code=record.household_code, scope=principal.scope
        ).village_code
    if _direct(principal):
        if entity == "households":
            record = repo.update_household(
                session,
                actor=principal.actor,
                household_code=key,
                changes=typed,
                expected_version=expected_version,
                reason=note,
            )
        else:
            record = repo.update_person(
                session,
                actor=principal.actor,
                id_hash=key,
                changes=typed,
                expected_version=expected_version,
            )
        return EditOutcome(applied=True, row_version=record.row_version)
    if record.row_version != expected_version:
        fields = repo.changed_fields_since(session, record, expected_version)
        raise ConflictError(
            f"The {entity} record was changed since you read it "
            f"(version {expected_version}, now {record.row_version})"
            + (f"; changed: {', '.join(fields)}." if fields else "."),
            fix="Reload the record, re-apply your change and propose it again.",
            fields=fields,
        )
    request = add_request(
        session,
        actor=principal.actor,
        proposed_by=principal.name,
        proposer_role=principal.role,
        entity=entity,
        entity_key=key,
        region_code=village,
        base_version=expected_version,
        changes={name: _plain(value) for name, value in typed.items()},
        comment=note,
    )
    return EditOutcome(applied=False, request_id=request.id)


def edit_household(
    session: Session,
    principal: Principal,
    *,
    household_code: str,
    expected_version: int,
    changes: Mapping[str, Any],
    comment: str | None = None,
) -> EditOutcome:
    """Edit a household in scope: applied at once for a direct-edit role, else a request."""
    return _edit(
        session,
        principal,
        entity="households",
        key=household_code,
        expected_version=expected_version,
        changes=changes,
        comment=comment,
    )


def edit_person(
    session: Session,
    principal: Principal,
    *,
    id_hash: str,
    expected_version: int,
    changes: Mapping[str, Any],
    comment: str | None = None,
) -> EditOutcome:
    """Edit a person in scope (never the ID number): applied at once or a request."""
    return _edit(
        session,
        principal,
        entity="people",
        key=id_hash,
        expected_version=expected_version,
        changes=changes,
        comment=comment,
    )


def _view(request: ChangeRequest, **extra: Any) -> ChangeRequestView:
    return ChangeRequestView(
        id=request.id,
        entity=request.entity,
        entity_key=request.entity_key,
        region_code=request.region_code,
        proposed_by=request.proposed_by,
        proposer_role=request.proposer_role,
        base_version=request.base_version,
        fields=sorted(request.changes),
        state=request.state,
        comment=request.comment,
        reviewer=request.reviewer,
        review_comment=request.review_comment,
        created_at=request.created_at,
        reviewed_at=request.reviewed_at,
        closed_at=request.closed_at,
        **extra,
    )


def list_requests(session: Session, principal: Principal) -> RequestLists:
    """The principal's own requests and the submitted ones they may review, in their scope."""
    principal.require("registry:read")
    from dongxi.store import _changes as store

    mine = store.list_requests(session, scope=principal.scope, proposed_by=principal.name)
    waiting: list[ChangeRequest] = []
    if principal.can("registry:write"):
        level = LEVELS.get(principal.role, 0)
        roles = [r for r in LEVELS if _needed_level(r) <= level]
        waiting = [
            r
            for r in store.list_requests(
                session, scope=principal.scope, state="submitted", proposer_roles=roles
            )
            if r.proposed_by != principal.name
        ]
    return RequestLists(mine=[_view(r) for r in mine], to_review=[_view(r) for r in waiting])


def _record(session: Session, principal: Principal, request: ChangeRequest) -> Any:
    from dongxi.store import _repository as repo

    if request.entity == "households":
        return repo.get_household(session, household_code=request.entity_key, scope=principal.scope)
    return repo.get_person(session, scope=principal.scope, id_hash=request.entity_key)


def request_detail(
    session: Session, principal: Principal, *, request_id: int, via: str = "api"
) -> ChangeRequestView:
    """One request in scope with its diff (current and proposed value of each field); showing
    the record's values is an audited read."""
    principal.require("registry:read")
    from dongxi.store._changes import get_request
    from dongxi.store._read_audit import audit_read
    from dongxi.store._repository import changed_fields_since

    request = get_request(session, request_id=request_id, scope=principal.scope)
    try:
        record = _record(session, principal, request)
    except NotFoundError:
        record = None
    diff = {
        name: {
            "current": None if record is None else _plain(getattr(record, name)),
            "proposed": value,
        }
        for name, value in sorted(request.changes.items())
    }
    version = None if record is None else record.row_version
    moved = None
    if record is not None and request.state == "submitted" and version != request.base_version:
        moved = changed_fields_since(session, record, request.base_version)
    if record is not None:
        audit_read(
            session.connection(),
            actor=principal.actor,
            entity=request.entity,
            key=request.entity_key,
            after={"via": f"{via}:change_request:{request.id}"},
        )
    return _view(request, diff=diff, current_version=version, conflict_fields=moved)


def _party(principal: Principal, request: ChangeRequest, *, wanted: str) -> str:
    if wanted == "reviewer" and _is_reviewer(principal, request):
        return "reviewer"
    if principal.name == request.proposed_by:
        return "proposer"
    if _is_reviewer(principal, request):
        return "reviewer"
    raise PermissionDeniedError(
        "Only the proposer or a reviewer of the next level up may act on this change request.",
        fix="Ask an officer of the next level up, within whose area the record lies.",
    )


def approve(
    session: Session, principal: Principal, *, request_id: int, comment: str | None = None
) -> ChangeRequestView:
    """Approve a submitted request and apply it in the same transaction.

    The request ends ``applied``, or ``conflict`` (naming the fields that changed) when the
    record moved since the proposal; the record is then left as it is."""
    principal.require("registry:write")
    from dongxi.store import _repository as repo
    from dongxi.store._changes import get_request, move_request

    request = get_request(session, request_id=request_id, scope=principal.scope)
    party = _party(principal, request, wanted="reviewer")
    note = _comment(comment)
    move_request(
        session, request, to="approved", party=party, actor=principal.actor,
        reviewer=principal.name, comment=note,
    )  # fmt: skip
    typed = _typed(request.entity, request.changes)
    record = _record(session, principal, request)  # still inside the reviewer's scope
    if record.row_version != request.base_version:
        moved = repo.changed_fields_since(session, record, request.base_version)
        move_request(session, request, to="conflict", party="system", actor=principal.actor)
        return _view(request, conflict_fields=moved)
    # a commit by someone else between this check and the write is refused by the row's
    # version (ConflictError, 409): the whole transaction is rolled back, the request stays
    # submitted and can be approved again
    if request.entity == "households":
        repo.update_household(
            session,
            actor=principal.actor,
            household_code=request.entity_key,
            changes=typed,
            expected_version=request.base_version,
            reason=note or request.comment,
        )
    else:
        repo.update_person(
            session,
            actor=principal.actor,
            id_hash=request.entity_key,
            changes=typed,
            expected_version=request.base_version,
        )
    move_request(session, request, to="applied", party="system", actor=principal.actor)
    return _view(request)


def reject(
    session: Session, principal: Principal, *, request_id: int, comment: str
) -> ChangeRequestView:
    """Reject a submitted request, with a comment saying why."""
    principal.require("registry:write")
    from dongxi.store._changes import get_request, move_request

    request = get_request(session, request_id=request_id, scope=principal.scope)
    party = _party(principal, request, wanted="reviewer")
    note = _comment(comment, required=True)
    move_request(
        session, request, to="rejected", party=party, actor=principal.actor,
        reviewer=principal.name, comment=note,
    )  # fmt: skip
    return _view(request)


def withdraw(
    session: Session, principal: Principal, *, request_id: int, comment: str | None = None
) -> ChangeRequestView:
    """Withdraw one's own submitted request."""
    principal.require("registry:write")
    from dongxi.store._changes import get_request, move_request

    request = get_request(session, request_id=request_id, scope=principal.scope)
    party = _party(principal, request, wanted="proposer")
    move_request(
        session, request, to="withdrawn", party=party, actor=principal.actor,
        comment=_comment(comment),
    )  # fmt: skip
    return _view(request)
