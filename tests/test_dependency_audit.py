"""Known vulnerabilities in the locked dependencies (pip-audit on ``uv export --frozen``).

The locked environment (every group, hashes left out) is exported by ``uv`` and audited by
``pip-audit`` against PyPI's vulnerability data, without pip and without resolving again
(``--disable-pip --no-deps``: the lock is the truth). The test fails with one line per known
vulnerability (package, version, advisory, fixed versions). When the vulnerability service
answers for none of the packages (no route to it), the audit cannot say anything and the test is
skipped, saying so; a partial answer is not a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def vulnerabilities(report: dict[str, Any]) -> list[str]:
    """One line per known vulnerability in a ``pip-audit --format json`` report."""
    lines = []
    for dep in report.get("dependencies", []):
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            lines.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    return sorted(lines)


def audited(report: dict[str, Any]) -> int:
    """How many dependencies the service answered for (not skipped)."""
    return sum(1 for dep in report.get("dependencies", []) if "skip_reason" not in dep)


def test_vulnerabilities_lists_each_advisory_with_its_fix() -> None:
    report = {
        "dependencies": [
            {"name": "jinja2", "version": "3.1.2", "vulns": [
                {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []},
                {"id": "PYSEC-2024-1", "fix_versions": [], "aliases": []},
            ]},
            {"name": "rich", "version": "13.0.0", "vulns": []},
            {"name": "local", "skip_reason": "Dependency not found on PyPI"},
        ],
        "fixes": [],
    }  # fmt: skip
    assert vulnerabilities(report) == [
        "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)",
        "jinja2 3.1.2: PYSEC-2024-1 (fixed in no fixed release)",
    ]
    assert audited(report) == 2


@pytest.mark.slow
def test_locked_dependencies_have_no_known_vulnerability(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv is not on PATH (CI installs it: python3 -m pip install uv)"
    requirements = tmp_path / "requirements.txt"
    subprocess.run(
        [uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups", "--quiet",
         "--output-file", str(requirements)],
        cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    out = tmp_path / "audit.json"
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(requirements), "--disable-pip",
         "--no-deps", "--format", "json", "--output", str(out), "--progress-spinner", "off"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.exists(), f"pip-audit failed (exit {result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(out.read_text())
    assert report["dependencies"], "pip-audit audited nothing: the export is empty"
    if audited(report) == 0:
        pytest.skip(
            "PyPI's vulnerability service answered for none of the "
            f"{len(report['dependencies'])} locked packages (unreachable from here)"
        )
    found = vulnerabilities(report)
    assert not found, "known vulnerabilities in uv.lock (upgrade them):\n" + "\n".join(found)
