"""Procedures with deadlines (防返贫监测的识别、风险消除与脱贫退出程序) as data, and what follows.

A procedure is a state machine read from a TOML file (the package's
``monitor/data/procedures.toml`` by default; an office may give its own of the same shape):
its states (the last step done; final states end the case), the steps (transitions) with the
roles that may take each, and two kinds of deadline:

- ``due_days`` of a state: the next step must be done within that many days of entering it
  (the home visit within 3 days of the warning);
- ``total_days`` of a procedure: the case must reach a final state within that many days of
  being opened (the whole identification within 15 days).

A deadline day itself is not late: a step due on the 4th and done on the 4th is on time; on the
5th it is overdue by one day.

Pure: tables in, tables out (pandas); no database, no web. The store keeps cases and their
history; the use cases (``dongxi.services.cases``) consult :func:`check_transition` before every
step and :func:`overdue` for the list of late steps.

::

    Procedures ── load_procedures(path) ── Procedure ── State
                                               │
          allowed_transitions / check_transition / deadlines / next_deadline / overdue
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dongxi import vocab
from dongxi.errors import ConflictError, InputError, PermissionDeniedError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OVERDUE_COLUMNS",
    "Deadlines",
    "Procedure",
    "Procedures",
    "State",
    "allowed_transitions",
    "check_transition",
    "deadlines",
    "default_procedures",
    "load_procedures",
    "next_deadline",
    "overdue",
    "states_in_order",
]

#: Columns of :func:`overdue`'s table, in order.
OVERDUE_COLUMNS = (
    "case_id",
    "household_code",
    "procedure",
    "state",
    "state_since",
    "step_due_on",
    "final_due_on",
    "step_days_late",
    "total_days_late",
    "next_steps",
)


@dataclass(frozen=True)
class State:
    """One state of a procedure: the last step done. ``due_days``: days allowed for the next
    step (``None`` for a final state)."""

    code: str
    zh: str
    en: str
    due_days: int | None = None
    final: bool = False


@dataclass(frozen=True)
class Procedure:
    """One procedure: its states in order, the allowed steps and who may take them."""

    code: str
    zh: str
    en: str
    initial: str
    total_days: int
    states: Mapping[str, State]
    #: (from, to) → the roles that may take that step.
    transitions: Mapping[tuple[str, str], frozenset[str]]
    #: The state whose reaching puts the household on a public notice (and whose leaving needs
    #: the notice closed); ``None`` when the procedure publishes nothing.
    publishes: str | None = None
    #: The kind of that notice (a code of :data:`dongxi.vocab.NOTICE_KINDS`).
    notice_kind: str | None = None

    def state(self, code: str) -> State:
        """The state ``code`` (``InputError`` naming the states otherwise)."""
        found = self.states.get(code)
        if found is None:
            raise InputError(
                f"The procedure '{self.code}' has no state '{code}'.",
                column="state",
                value=code,
                rule="procedure_state",
                fix=f"Use one of: {', '.join(self.states)}.",
            )
        return found

    def is_final(self, code: str) -> bool:
        """Whether ``code`` ends a case."""
        return self.state(code).final


@dataclass(frozen=True)
class Procedures:
    """Every procedure of one file, by code (codes of :data:`dongxi.vocab.CASE_PROCEDURES`)."""

    procedures: Mapping[str, Procedure]
    source: str

    def __getitem__(self, code: str) -> Procedure:
        found = self.procedures.get(code)
        if found is None:
            raise InputError(
                f"No procedure '{code}' in {self.source}.",
                column="procedure",
                value=code,
                rule="procedure",
                fix=f"Use one of: {', '.join(self.procedures)}.",
            )
        return found

    def __contains__(self, code: object) -> bool:
        return code in self.procedures


@dataclass(frozen=True)
class Deadlines:
    """A case's deadlines: the next step's (``None`` in a final state) and the whole
    procedure's."""

    step_due_on: dt.date | None
    final_due_on: dt.date

    @property
    def next(self) -> dt.date | None:
        """The nearer of the two (``None`` in a final state)."""
        if self.step_due_on is None:
            return None
        return min(self.step_due_on, self.final_due_on)


def _bad(source: str, where: str, message: str, fix: str, value: Any = None) -> InputError:
    return InputError(
        f"{message} ({where})",
        file=source,
        column=where,
        value=None if value is None else str(value),
        rule="procedures_file",
        fix=fix,
    )


def _text(data: Mapping[str, Any], key: str, source: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(source, f"{where}.{key}", f"'{key}' must be a non-empty text.", f"Give {key}.")
    return value.strip()


def _days(value: Any, source: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3650:
        raise _bad(
            source, where, "A number of days must be a whole number from 0 to 3650.",
            "Write a whole number of days, e.g. 3.", value,
        )  # fmt: skip
    return value


def _procedure(code: str, data: Mapping[str, Any], source: str) -> Procedure:
    where = f"procedures.{code}"
    if code not in vocab.CASE_PROCEDURES:
        raise _bad(
            source, where, f"Unknown procedure '{code}'.",
            f"Name one of: {', '.join(vocab.CASE_PROCEDURES)}.", code,
        )  # fmt: skip
    states: dict[str, State] = {}
    for i, item in enumerate(data.get("states") or []):
        at = f"{where}.states[{i}]"
        state_code = _text(item, "code", source, at)
        if state_code in states:
            raise _bad(source, at, f"The state '{state_code}' is given twice.", "Keep one.")
        final = bool(item.get("final", False))
        due = item.get("due_days")
        if final and due is not None:
            raise _bad(source, at, "A final state has no deadline.", "Remove due_days.")
        if not final and due is None:
            raise _bad(
                source, at, f"The state '{state_code}' needs due_days (days for the next step).",
                "Add due_days, or mark the state final = true.",
            )  # fmt: skip
        states[state_code] = State(
            code=state_code,
            zh=_text(item, "zh", source, at),
            en=_text(item, "en", source, at),
            due_days=None if final else _days(due, source, f"{at}.due_days"),
            final=final,
        )
    if not states:
        raise _bad(source, where, "A procedure needs states.", "Add [[...states]] tables.")
    transitions: dict[tuple[str, str], frozenset[str]] = {}
    for i, item in enumerate(data.get("transitions") or []):
        at = f"{where}.transitions[{i}]"
        frm, to = _text(item, "from", source, at), _text(item, "to", source, at)
        for value in (frm, to):
            if value not in states:
                raise _bad(
                    source, at, f"The step names an unknown state '{value}'.",
                    f"Use one of: {', '.join(states)}.", value,
                )  # fmt: skip
        if states[frm].final:
            raise _bad(source, at, f"No step may leave the final state '{frm}'.", "Remove it.")
        roles = item.get("roles")
        if not isinstance(roles, list) or not roles:
            raise _bad(
                source, at, "A step needs the roles that may take it.", "Give roles = [...]."
            )
        for role in roles:
            if role not in vocab.USER_ROLES:
                raise _bad(
                    source, at, f"Unknown role '{role}'.",
                    f"Use codes of: {', '.join(vocab.USER_ROLES)}.", role,
                )  # fmt: skip
        if (frm, to) in transitions:
            raise _bad(source, at, f"The step {frm} → {to} is given twice.", "Keep one.")
        transitions[(frm, to)] = frozenset(roles)
    for state in states.values():
        if not state.final and not any(frm == state.code for frm, _ in transitions):
            raise _bad(
                source, where, f"No step leaves the state '{state.code}'.",
                "Add a step from it, or mark it final = true.",
            )  # fmt: skip
    initial = _text(data, "initial", source, where)
    if initial not in states or states[initial].final:
        raise _bad(
            source,
            f"{where}.initial",
            "The initial state must be a non-final state.",
            f"Use one of: {', '.join(s for s in states if not states[s].final)}.",
            initial,
        )
    publishes = data.get("publishes")
    notice_kind = data.get("notice_kind")
    if (publishes is None) != (notice_kind is None):
        raise _bad(source, where, "publishes and notice_kind go together.", "Give both or none.")
    if publishes is not None and (publishes not in states or states[publishes].final):
        raise _bad(
            source,
            f"{where}.publishes",
            "publishes must name a non-final state.",
            "Name the state of the village notice.",
            publishes,
        )
    if notice_kind is not None and notice_kind not in vocab.NOTICE_KINDS:
        raise _bad(
            source,
            f"{where}.notice_kind",
            f"Unknown notice kind '{notice_kind}'.",
            f"Use one of: {', '.join(vocab.NOTICE_KINDS)}.",
            notice_kind,
        )
    return Procedure(
        code=code,
        zh=_text(data, "zh", source, where),
        en=_text(data, "en", source, where),
        initial=initial,
        total_days=_days(data.get("total_days"), source, f"{where}.total_days"),
        states=MappingProxyType(states),
        transitions=MappingProxyType(transitions),
        publishes=publishes,
        notice_kind=notice_kind,
    )


def _parse(text: str, source: str) -> Procedures:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"The procedures file is not valid TOML: {exc}",
            file=source,
            rule="toml",
            fix="Correct the line named (docs/monitor-procedures.md shows the shape).",
        ) from None
    table = data.get("procedures")
    if not isinstance(table, dict) or not table:
        raise _bad(
            source,
            "procedures",
            "The file has no [procedures.*] tables.",
            "Start from the package's procedures.toml.",
        )
    return Procedures(
        procedures=MappingProxyType({c: _procedure(c, d, source) for c, d in table.items()}),
        source=source,
    )


_DEFAULT: Procedures | None = None


def default_procedures() -> Procedures:
    """The package's procedures (read once)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = (resources.files("dongxi.monitor") / "data" / "procedures.toml").read_text(
            encoding="utf-8"
        )
        _DEFAULT = _parse(text, "procedures.toml")
    return _DEFAULT


def load_procedures(path: str | Path | None = None) -> Procedures:
    """The procedures of an office's file, or the package's when ``path`` is ``None``."""
    if path is None:
        return default_procedures()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"Cannot read the procedures file ({exc.strerror}).",
            file=file.name,
            rule="file",
            fix="Give the path of a readable TOML file.",
        ) from None
    return _parse(text, file.name)


def allowed_transitions(
    procedures: Procedures, procedure: str, state: str, role: str | None = None
) -> list[str]:
    """The states a case may go to from ``state`` (by ``role``, when given), in file order."""
    proc = procedures[procedure]
    proc.state(state)
    return [
        to
        for (frm, to), roles in proc.transitions.items()
        if frm == state and (role is None or role in roles)
    ]


def check_transition(
    procedures: Procedures, procedure: str, current: str, to: str, role: str
) -> None:
    """Refuse unless ``role`` may take the step ``current`` → ``to``.

    An unknown state is :class:`InputError`; a step the procedure does not have from the case's
    present state is :class:`ConflictError` (the case is not where the caller thought); a role
    not listed for the step is :class:`PermissionDeniedError`.
    """
    proc = procedures[procedure]
    proc.state(current)
    proc.state(to)
    roles = proc.transitions.get((current, to))
    if roles is None:
        nexts = allowed_transitions(procedures, procedure, current)
        raise ConflictError(
            f"A {procedure} case cannot go from '{current}' to '{to}'.",
            fix=(f"From '{current}' it can go to: {', '.join(nexts)}." if nexts else
                 f"'{current}' is final: open a new case if needed."),
        )  # fmt: skip
    if role not in roles:
        raise PermissionDeniedError(
            f"The role '{role}' may not take the step '{current}' → '{to}' of {procedure}.",
            fix=f"Roles that may: {', '.join(sorted(roles))}.",
        )


def deadlines(
    procedure: Procedure, *, opened_on: dt.date, state: str, state_since: dt.date
) -> Deadlines:
    """A case's deadlines from the day it was opened and the day it entered ``state``."""
    due = procedure.state(state).due_days
    return Deadlines(
        step_due_on=None if due is None else state_since + dt.timedelta(days=due),
        final_due_on=opened_on + dt.timedelta(days=procedure.total_days),
    )


def next_deadline(
    procedures: Procedures,
    procedure: str,
    *,
    opened_on: dt.date,
    state: str,
    state_since: dt.date,
) -> dt.date | None:
    """The next day by which something must be done (``None`` in a final state)."""
    return deadlines(
        procedures[procedure], opened_on=opened_on, state=state, state_since=state_since
    ).next


def overdue(cases: pd.DataFrame, *, as_of: dt.date, procedures: Procedures) -> pd.DataFrame:
    """The open cases with a late step as of ``as_of``: one row per case, :data:`OVERDUE_COLUMNS`.

    ``cases`` holds ``case_id``, ``household_code``, ``procedure``, ``state``, ``opened_on``
    and ``state_since`` (dates). Cases in a final state are never late. ``step_days_late`` /
    ``total_days_late`` count the days past each deadline (0 when on time; a step on its
    deadline day is on time). ``next_steps`` lists the states the case may go to.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for case in cases.itertuples(index=False):
        proc = procedures[str(case.procedure)]
        state = str(case.state)
        if proc.is_final(state):
            continue
        opened = _as_date(case.opened_on, "opened_on")
        since = _as_date(case.state_since, "state_since")
        due = deadlines(proc, opened_on=opened, state=state, state_since=since)
        assert due.step_due_on is not None
        step_late = max((as_of - due.step_due_on).days, 0)
        total_late = max((as_of - due.final_due_on).days, 0)
        if step_late or total_late:
            rows.append(
                {
                    "case_id": case.case_id,
                    "household_code": case.household_code,
                    "procedure": proc.code,
                    "state": state,
                    "state_since": since,
                    "step_due_on": due.step_due_on,
                    "final_due_on": due.final_due_on,
                    "step_days_late": step_late,
                    "total_days_late": total_late,
                    "next_steps": ", ".join(allowed_transitions(procedures, proc.code, state)),
                }
            )
    return pd.DataFrame(rows, columns=list(OVERDUE_COLUMNS))


def _as_date(value: Any, column: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date()  # type: ignore[no-any-return]
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(
            "A case date is not a date.", column=column, value=str(value), rule="date",
            fix="Give dates as YYYY-MM-DD.",
        ) from None  # fmt: skip


def states_in_order(procedure: Procedure) -> Sequence[State]:
    """The states of ``procedure`` in file order (the order of the procedure's steps)."""
    return list(procedure.states.values())
