"""``dongxi <command>`` builds only that command: the same help, options and errors as the
whole app, without Typer reading every other command's signature at start."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dongxi.cli import _command_name, app, app_for

NAMES = sorted(
    name
    for name in (
        *(_command_name(c) for c in app.registered_commands),
        *(_command_name(g) for g in app.registered_groups),
    )
    if name is not None
)


def test_every_command_has_a_name() -> None:
    assert len(NAMES) == len(app.registered_commands) + len(app.registered_groups)
    assert {"match", "proposal", "db", "monitor", "import"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_command_alone_answers_as_in_the_whole_app(name: str) -> None:
    runner = CliRunner()
    for args in ([name, "--help"], ["--debug", name, "--help"], [name, "--no-such-option"]):
        lean = app_for(args)
        assert lean is not app
        assert len(lean.registered_commands) + len(lean.registered_groups) == 1
        alone = runner.invoke(lean, args, prog_name="dongxi")
        whole = runner.invoke(app, args, prog_name="dongxi")
        assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), args
    # the app itself keeps every command
    assert len(app.registered_commands) + len(app.registered_groups) == len(NAMES)


@pytest.mark.parametrize(
    "args", [[], ["--help"], ["--version"], ["--debug"], ["no-such-command"], ["mach", "x"]]
)
def test_no_command_or_an_unknown_one_gets_the_whole_app(args: list[str]) -> None:
    assert app_for(args) is app
