"""The ``dongxi`` command line (Typer).

Each group of commands lives in its own module with a ``register(app)`` function. Errors that
dongxi raises on purpose are shown as one clear message (no traceback unless ``--debug``) and exit
with status 2; anything else is a bug and shows its traceback (status 1).

Tracebacks never carry personal values: the frames (file, line, code) are printed as they are,
but every exception message in the chain goes through :func:`dongxi.redaction.scrub_debug` (ID
numbers masked, every run of non-ASCII letters — a name in a pandas message — cut to its first
character), and the
registry's engines hide SQL parameters (``hide_parameters``).
"""

from __future__ import annotations

import copy
import logging
import sys
import traceback
from typing import Annotated

import typer

from dongxi import __version__
from dongxi.errors import ConfigError, DongxiError
from dongxi.redaction import scrub_debug

__all__ = ["app", "main"]

app = typer.Typer(
    name="dongxi",
    help="东西 dongxi — East–West collaboration in poverty alleviation (东西部协作).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dongxi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show tracebacks for errors and debug logs (else DONGXI_LOG_LEVEL)."
        ),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """东西 dongxi — East–West collaboration in poverty alleviation (东西部协作)."""
    _state["debug"] = debug
    level = logging.DEBUG if debug else _configured_level()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("dongxi").setLevel(level)


def _configured_level() -> int:
    """The logging level of ``DONGXI_LOG_LEVEL``."""
    from pydantic import ValidationError

    from dongxi.settings import get_settings

    try:
        return logging.getLevelName(get_settings().log_level)  # type: ignore[no-any-return]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "_".join(str(part) for part in error["loc"]).upper()
        raise ConfigError(
            f"The setting DONGXI_{name} is invalid: {error['msg']}.",
            fix="Correct the variable (docs/settings.md lists every setting and its values).",
        ) from None


def _register_all() -> None:
    from dongxi.cli import (
        audit,
        cases,
        db,
        demo,
        imports,
        market,
        measure,
        monitor,
        needs,
        policy,
        regions,
        report,
        score,
        serve,
        synth,
        users,
    )

    for module in (
        demo,
        measure,
        report,
        db,
        imports,
        synth,
        market,
        needs,
        monitor,
        policy,
        regions,
        serve,
        users,
        audit,
    ):
        module.register(app)
    # the monitoring group: sweep and audit (cli/monitor.py), cases and their procedures
    # (cli/cases.py)
    cases.register_monitor(monitor.monitor_app)
    score.register_monitor(monitor.monitor_app)
    cases.register(app)


_register_all()


def redacted_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` (and its causes) with every exception message redacted."""
    # format() yields the frames (file, line, source code: not data, printed as they are) and the
    # "Type: message" blocks of each exception in the chain (redacted)
    blocks = traceback.TracebackException.from_exception(exc).format()
    return "".join(_redact_block(block) for block in blocks)


def _redact_block(block: str) -> str:
    if block.startswith("  File ") or block.startswith("Traceback "):
        return block
    return scrub_debug(block)


def _print_traceback(exc: BaseException) -> None:
    sys.stderr.write(redacted_traceback(exc))
    sys.stderr.flush()


def _command_name(info: typer.models.CommandInfo | typer.models.TyperInfo) -> str | None:
    """The name a registered command or group is called by (``None``: not a plain name)."""
    if isinstance(info, typer.models.CommandInfo):
        name = info.name
    else:
        group = info.typer_instance
        name = info.name if isinstance(info.name, str) else group.info.name if group else None
    return name if isinstance(name, str) else None


def app_for(argv: list[str]) -> typer.Typer:
    """The app with only the command or group that ``argv`` calls (the root's options are
    flags, so it is the first word without a dash), else the whole app. Typer builds the click
    objects of every registered command at each start (~ 50 ms for all of dongxi's, reading
    their signatures); a command needs only its own. Help and errors for an unknown command
    come from the whole app."""
    word = next((a for a in argv if not a.startswith("-")), None)
    if word is None or not isinstance(app, typer.Typer):  # (a test may stand in for the app)
        return app
    commands = [c for c in app.registered_commands if _command_name(c) == word]
    groups = [g for g in app.registered_groups if _command_name(g) == word]
    if len(commands) + len(groups) != 1:
        return app
    lean = copy.copy(app)
    lean.registered_commands = commands
    lean.registered_groups = groups
    return lean


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dongxi`` script; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app_for(args)(args=args, prog_name="dongxi")
    except DongxiError as exc:
        if _state["debug"]:
            _print_traceback(exc)
        else:
            from dongxi.cli._present import console

            console(stderr=True).print(
                f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True
            )
        return 2
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    except Exception as exc:  # a bug: its traceback, with the messages redacted
        _print_traceback(exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
