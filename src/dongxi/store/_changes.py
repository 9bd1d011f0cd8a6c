"""Change requests, store side: the life cycle as data, and reads and writes of the requests.

States and the allowed transitions are data (:data:`TRANSITIONS`): which party may move a request
from one state to the next. Every caller consults :func:`check_transition` instead of restating
the rules. Every transition is written to the change log (entity ``change_requests``, action the
new state) in the same transaction as the row.

::

    submitted ──reviewer──► approved ──system──► applied
        │                       └────system──► conflict (the record moved since the proposal)
        ├──reviewer──► rejected
        └──proposer──► withdrawn

Reads take the caller's :class:`~dongxi.store.scope.Scope`: a request on a record outside it is
``NotFoundError``, exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from dongxi.store._changelog import record_change
from dongxi.store.base import utcnow
from dongxi.store.change_models import CHANGE_REQUEST_STATES, ChangeRequest
from dongxi.store.db import translate_errors
from dongxi.store.scope import Scope

__all__ = [
    "FINAL_STATES",
    "INITIAL_STATE",
    "PARTIES",
    "STATES",
    "TRANSITIONS",
    "add_request",
    "check_transition",
    "get_request",
    "list_requests",
    "move_request",
]

STATES = CHANGE_REQUEST_STATES
INITIAL_STATE = "submitted"
#: Who acts on a request: its proposer, a reviewer (the next level up), the system (applying).
PARTIES = ("proposer", "reviewer", "system")
#: (from, to) → the parties that may make that change.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("submitted", "approved"): frozenset({"reviewer"}),
    ("submitted", "rejected"): frozenset({"reviewer"}),
    ("submitted", "withdrawn"): frozenset({"proposer"}),
    ("approved", "applied"): frozenset({"system"}),
    ("approved", "conflict"): frozenset({"system"}),
}
FINAL_STATES = frozenset(s for s in STATES if not any(frm == s for frm, _ in TRANSITIONS))


def check_transition(current: str, new: str, party: str) -> None:
    """Refuse unless ``party`` may move a request from ``current`` to ``new``.

    An unknown state or party is :class:`InputError`; a move the life cycle does not allow from
    the request's present state is :class:`ConflictError` (the request is no longer where the
    caller thought); a party not allowed to make an allowed move is
    :class:`PermissionDeniedError`.
    """
    for value, name in ((current, "current state"), (new, "new state")):
        if value not in STATES:
            raise InputError(
                f"Unknown {name} of a change request.",
                value=value,
                rule="state_machine",
                fix=f"Use one of: {', '.join(STATES)}.",
            )
    if party not in PARTIES:
        raise InputError(
            "Unknown party to a change request.",
            value=party,
            rule="state_machine",
            fix=f"Use one of: {', '.join(PARTIES)}.",
        )
    allowed = TRANSITIONS.get((current, new))
    if allowed is None:
        nexts = sorted(to for (frm, to) in TRANSITIONS if frm == current)
        raise ConflictError(
            f"A change request cannot go from '{current}' to '{new}'.",
            fix=(f"From '{current}' it can go to: {', '.join(nexts)}." if nexts else
                 f"'{current}' is final; propose the change again if it is still wanted."),
        )  # fmt: skip
    if party not in allowed:
        raise PermissionDeniedError(
            f"The {party} may not move a change request from '{current}' to '{new}'.",
            fix=f"Only the {' or the '.join(sorted(allowed))} may do that.",
        )


def _log(session: Session, request: ChangeRequest, *, actor: str, before: str | None) -> None:
    after: dict[str, Any] = {
        "state": request.state,
        "entity": request.entity,
        "entity_key": request.entity_key,
        "base_version": request.base_version,
        "fields": sorted(request.changes),
    }
    comment = request.comment if request.state == INITIAL_STATE else request.review_comment
    if comment:
        after["comment"] = comment
    record_change(
        session.connection(),
        actor=actor,
        action=request.state,
        entity="change_requests",
        key=str(request.id),
        before=None if before is None else {"state": before},
        after=after,
    )


def add_request(
    session: Session,
    *,
    actor: str,
    proposed_by: str,
    proposer_role: str,
    entity: str,
    entity_key: str,
    region_code: str,
    base_version: int,
    changes: Mapping[str, Any],
    comment: str | None = None,
) -> ChangeRequest:
    """Insert a request in state ``submitted`` and log it (the values are not logged, only the
    names of the fields)."""
    request = ChangeRequest(
        proposed_by=proposed_by,
        proposer_role=proposer_role,
        entity=entity,
        entity_key=entity_key,
        region_code=region_code,
        base_version=base_version,
        changes=dict(changes),
        state=INITIAL_STATE,
        comment=comment,
    )
    with translate_errors("Saving a change request"):
        session.add(request)
        session.flush()
        _log(session, request, actor=actor, before=None)
    return request


def get_request(session: Session, *, request_id: int, scope: Scope) -> ChangeRequest:
    """One request whose record lies inside ``scope`` (else ``NotFoundError``)."""
    query = sa.select(ChangeRequest).where(
        ChangeRequest.id == request_id, scope.where_region(ChangeRequest.region_code)
    )
    with translate_errors("Reading change requests"):
        request = session.scalars(query).one_or_none()
    if request is None:
        raise NotFoundError(
            f"No change request {request_id}.",
            fix="Check the number, or list your change requests first.",
        )
    return request


def list_requests(
    session: Session,
    *,
    scope: Scope,
    proposed_by: str | None = None,
    state: str | None = None,
    proposer_roles: Sequence[str] | None = None,
    limit: int = 200,
) -> Sequence[ChangeRequest]:
    """Requests inside ``scope``, newest first, filtered by proposer, state, proposer's role."""
    query = sa.select(ChangeRequest).where(scope.where_region(ChangeRequest.region_code))
    if proposed_by is not None:
        query = query.where(ChangeRequest.proposed_by == proposed_by)
    if state is not None:
        query = query.where(ChangeRequest.state == state)
    if proposer_roles is not None:
        query = query.where(ChangeRequest.proposer_role.in_(list(proposer_roles)))
    query = query.order_by(ChangeRequest.id.desc()).limit(limit)
    with translate_errors("Listing change requests"):
        return session.scalars(query).all()


def move_request(
    session: Session,
    request: ChangeRequest,
    *,
    to: str,
    party: str,
    actor: str,
    reviewer: str | None = None,
    comment: str | None = None,
) -> ChangeRequest:
    """Move ``request`` to state ``to`` (checked by :func:`check_transition`) and log it."""
    before = request.state
    check_transition(before, to, party)
    now = utcnow()
    request.state = to
    if party == "reviewer":
        request.reviewer = reviewer
        request.reviewed_at = now
    if party != "system" and comment:
        request.review_comment = comment
    if to in FINAL_STATES:
        request.closed_at = now
    with translate_errors("Updating a change request"):
        session.flush()
        _log(session, request, actor=actor, before=before)
    return request
