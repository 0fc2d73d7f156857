"""Dependency audit: every pinned package of requirements.lock against known vulnerabilities.

    python .ci/audit.py [--lock requirements.lock] [--strict]      (make audit; .ci/run runs it)

pip-audit reads the lock (hash-checked, without installing anything) and asks its vulnerability
service about each pin. Exit 1 when any pin has a known vulnerability: the table names the
package, the advisory and the first fixed release. A pin the service could not answer for (no
network, or an index mirror that serves packages but not their vulnerability data, as on the
project's CI machines) is NOT audited: that is said loudly with the count, and is a failure
only with --strict (or AUDIT_STRICT=1), for a CI that does reach the service; otherwise every
machine without it would fail the build for something the code did not do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The whole lock takes ~20 s against a reachable service; a hung connection must not eat CI.
TIMEOUT_S = 600
PIP_AUDIT = Path(sys.executable).parent / "pip-audit"


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    report: str


def judge(result: dict, strict: bool) -> Verdict:
    """pip-audit's JSON report -> the exit code and what to print."""
    deps = result.get("dependencies", [])
    vulnerable = [(d, v) for d in deps for v in d.get("vulns", [])]
    skipped = [d for d in deps if "skip_reason" in d]
    audited = len(deps) - len(skipped)
    lines = [f"dependency audit: {len(deps)} pinned packages, {audited} audited"]
    for dep, vuln in vulnerable:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
        lines.append(
            f"  VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})"
        )
    if skipped:
        lines.append(
            f"  NOT AUDITED: {len(skipped)} packages; the vulnerability service did not answer "
            f"for them (first: {skipped[0]['skip_reason']})"
        )
    if vulnerable:
        lines.append(f"FAILED: {len(vulnerable)} known vulnerabilities; upgrade the pins above")
        return Verdict(1, "\n".join(lines))
    if skipped and strict:
        lines.append("FAILED: --strict, and some packages could not be audited")
        return Verdict(1, "\n".join(lines))
    if not audited:
        lines.append("nothing was audited: the vulnerability service is out of reach from here")
    elif skipped:
        lines.append("no vulnerability found in the audited packages; the rest were not checked")
    else:
        lines.append("no known vulnerability")
    return Verdict(0, "\n".join(lines))


def run_pip_audit(lock: Path, executable: Path | None = None) -> dict:
    """pip-audit's JSON report for `lock`; an unreachable service (pip-audit then crashes on the
    connection) is reported as every package not audited rather than as a crash."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        command = [
            str(executable or PIP_AUDIT),
            "--requirement", str(lock),
            "--require-hashes",
            "--disable-pip",
            "--progress-spinner", "off",
            "--format", "json",
            "--output", str(out),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return unreachable(lock, f"pip-audit gave no answer in {TIMEOUT_S} s")
        if out.exists() and out.stat().st_size:
            return json.loads(out.read_text())
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return unreachable(lock, f"pip-audit exited {done.returncode}: {last}")


def unreachable(lock: Path, reason: str) -> dict:
    pins = [
        line.split("==")
        for line in lock.read_text().splitlines()
        if "==" in line and not line.lstrip().startswith(("#", "--"))
    ]
    return {
        "dependencies": [
            {"name": name.strip(), "version": rest.split()[0].rstrip("\\"), "skip_reason": reason}
            for name, rest in pins
        ]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=REPO / "requirements.lock")
    parser.add_argument(
        "--strict",
        action="store_true",
        default=os.environ.get("AUDIT_STRICT") == "1",
        help="fail when a package could not be audited (AUDIT_STRICT=1)",
    )
    args = parser.parse_args(argv)
    verdict = judge(run_pip_audit(args.lock), args.strict)
    print(verdict.report)
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
