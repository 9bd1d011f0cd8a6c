"""Shared helpers of the command modules: who acts, and small presentation pieces.

Nothing here imports a heavy library at module level (``dongxi --help`` stays fast).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from dongxi.services import Principal
    from dongxi.services.cases import AlertImport

__all__ = ["console", "new_table", "operator", "print_alerts"]


def operator(actor: str | None = None) -> Principal:
    """The local operator (OS user, role ``admin``, every row), or the name given by ``--actor``.

    The command line runs with the rights of whoever can open the registry, so its principal is
    the administrator with the explicit scope of everything.
    """
    from dongxi.services import Principal, Scope

    if actor:
        return Principal(name=actor, role="admin", scope=Scope.everything())
    return Principal.local_operator()


def new_table(title: str, **options: Any) -> Table:
    """A Rich table (``rich.table`` is imported on first use, not at start-up)."""
    from rich.table import Table

    return Table(title=title, **options)


@cache
def console(*, stderr: bool = False) -> Console:
    """The Rich console of standard output (or error), made on first use (``rich.console`` is
    not imported at start-up)."""
    from rich.console import Console

    return Console(stderr=stderr)


def print_alerts(outcome: AlertImport) -> bool:
    """Tell what an import of department alerts did; ``False`` when cells were rejected (and
    nothing was opened)."""
    out = console()
    if outcome.errors:
        out.print(f"{len(outcome.errors)} cells rejected in {outcome.rows} rows; nothing opened")
        for error in outcome.errors[:20]:
            out.print(f"  row {error.row}, {error.column}: {error.message_zh}", markup=False)
        if outcome.report is not None:
            out.print(f"report written to {outcome.report}")
        return False
    rows = ", ".join(map(str, outcome.unmatched_rows[:20]))
    out.print(
        f"{outcome.rows} alerts: {len(outcome.opened)} cases opened, "
        f"{len(outcome.already_open)} households already in a case, "
        f"{len(outcome.unmatched_rows)} alerts matching no household in scope"
        + (f" (rows {rows})" if outcome.unmatched_rows else "")
    )
    return True
