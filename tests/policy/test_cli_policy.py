"""The ``policy`` command group, run in-process through a Typer app."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from dongxi.cli.policy import register


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    return app


def test_show_poverty_line() -> None:
    result = CliRunner().invoke(
        _app(), ["policy", "show", "poverty_line", "--year", "2015", "--scope", "450102"]
    )
    assert result.exit_code == 0, result.output
    assert "2855" in result.output
    assert "verified" in result.output


def test_list_with_override(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("name,scope,value,year\npoverty_line,450000,5000,2024\n", encoding="utf-8")
    result = CliRunner().invoke(
        _app(),
        ["policy", "list", "--name", "poverty_line", "--policy", str(path)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "5000" in result.output
    assert "user" in result.output
    assert "2736" in result.output
