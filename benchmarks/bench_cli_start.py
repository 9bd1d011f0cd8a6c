"""Benchmark: start-up time of the ``dongxi`` command line.

Measures the wall time of fresh processes — ``python -m dongxi --help``, ``--version`` and
``import --help`` — over N runs each (median and 90th percentile), against two floors measured in
the same run and the same order: ``python -c pass`` (the interpreter) and
``python -c "import typer"`` (the CLI framework), and a two-command Typer app's ``--help`` and
``a --help`` (what Typer itself spends rendering help: Rich, and pydantic for a command's
options). Runs are interleaved (one of each command per
round) so a change in the machine's load touches every command alike.

Byte-code caching is on for the children (``PYTHONDONTWRITEBYTECODE`` is removed from their
environment; the warm-up run writes the ``.pyc`` files), as on an ordinary installation: without
it every start compiles every imported module again and the figures measure the compiler.
``--no-bytecode-cache`` keeps the variable as it is.

Run::

    uv run python benchmarks/bench_cli_start.py            # 30 rounds
    uv run python benchmarks/bench_cli_start.py --runs 50
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

#: A two-command Typer app with one Path option: what Typer itself costs to render help.
_TINY_APP = (
    "import sys, typer\n"
    "from pathlib import Path\n"
    "app = typer.Typer()\n"
    "@app.command()\n"
    "def a(file: Path, out: Path = Path('x')) -> None: ...\n"
    "@app.command()\n"
    "def b() -> None: ...\n"
    "app(sys.argv[1:])\n"
)

COMMANDS: dict[str, list[str]] = {
    "python -c pass (floor)": ["-c", "pass"],
    'python -c "import typer" (floor)': ["-c", "import typer"],
    "two-command Typer app --help (floor)": ["-c", _TINY_APP, "--help"],
    "two-command Typer app a --help (floor)": ["-c", _TINY_APP, "a", "--help"],
    "dongxi --help": ["-m", "dongxi", "--help"],
    "dongxi --version": ["-m", "dongxi", "--version"],
    "dongxi import --help": ["-m", "dongxi", "import", "--help"],
}


def _once(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, env=env)
    if done.returncode not in (0,):
        raise SystemExit(f"{args} failed: {done.stderr.decode(errors='replace')[-400:]}")
    return time.perf_counter() - start


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="rounds (each runs every command)")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE as it is in the environment",
    )
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    for argv in COMMANDS.values():  # warm the file cache and the byte-code
        _once(argv, env)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(_once(argv, env))
    cache = "off" if env.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.runs} runs each, byte-code cache {cache}"
    )
    print("| command | median (s) | p90 (s) |\n| --- | ---: | ---: |")
    for name, values in times.items():
        print(f"| `{name}` | {statistics.median(values):.3f} | {_p90(values):.3f} |")


if __name__ == "__main__":
    main()
