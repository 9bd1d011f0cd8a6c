"""CLI command: ``dongxi demo`` — the main job end to end, with progress and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console as present_console
from dongxi.cli._present import new_table


def demo(
    folder: Annotated[
        Path,
        typer.Option("--dir", help="Working folder (created; holds dongxi.db and the report)."),
    ] = Path("dongxi-demo"),
    households: Annotated[
        int | None,
        typer.Option("--households", help="Number of synthetic households (default 30,000)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (default 2017).")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a demo already in the folder (and in its PostgreSQL registry)."
        ),
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="PostgreSQL registry to build the demo in, empty or a previous demo's "
            "(default: DONGXI_DATABASE_URL, else dongxi.db in --dir).",
        ),
    ] = None,
) -> None:
    """Run the main job: registry, synthetic data, import, snapshots, identification, matching,
    report (演示：登记、导入、快照、识别、匹配、报告)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from dongxi.demo import DEFAULT_HOUSEHOLDS, DEFAULT_SEED, run_demo

    console = present_console()
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task("dongxi demo", total=None)

    def progress(label: str, done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, description=label, completed=done, total=total)

    try:
        result = run_demo(
            folder,
            households=DEFAULT_HOUSEHOLDS if households is None else households,
            seed=DEFAULT_SEED if seed is None else seed,
            force=force,
            progress=progress,
            url=url,
        )
    finally:
        if bar.live.is_started:
            bar.stop()

    if result.summary is not None and len(result.summary):
        from dongxi.report._labels import format_number

        table = new_table("摘要 Summary")
        table.add_column("项目")
        table.add_column("item")
        table.add_column("value", justify="right", no_wrap=True)
        for row in result.summary.to_dict("records"):
            unit = row.get("unit") or ""
            value = row["value"]
            if isinstance(value, float) and value.is_integer() and abs(value) >= 10:
                value = int(value)
            table.add_row(
                str(row["label_zh"]),
                str(row["label_en"]),
                f"{format_number(value)} {unit}".strip(),
            )
        console.print(table)
    for item in result.missing:
        console.print(f"[yellow]not available:[/] {item}", highlight=False, soft_wrap=True)
    total = sum(result.seconds.values())
    console.print(f"time 用时: {total:.0f} s", highlight=False)
    console.print(f"registry 登记库: {result.registry}", highlight=False, soft_wrap=True)
    if result.key_file is not None:
        console.print(
            f"keys 密钥: {result.key_file} — created for this demo only (random, mode 0600); "
            f"to use the demo registry later set DONGXI_KEY_FILE={result.key_file}",
            highlight=False,
            soft_wrap=True,
        )
    if result.accounts is not None:
        console.print(
            f"[bold]demo accounts 演示账号 (DEMO ONLY):[/] {result.accounts} — one user per role "
            "with a random password; to try the service run:\n"
            f"  DONGXI_KEY_FILE={result.key_file} dongxi serve --url sqlite:///{result.database}",
            highlight=False,
            soft_wrap=True,
        )
    if result.workbook is not None:
        console.print(f"tables 表格: {result.workbook}", highlight=False, soft_wrap=True)
    if result.report is not None:
        console.print(
            f"[bold green]report 报告:[/] {result.report}", highlight=False, soft_wrap=True
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the dongxi app."""
    app.command("demo")(demo)
