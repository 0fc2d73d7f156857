"""The dependency audit CI runs (.ci/audit.py): what fails the build and what is only reported.
pip-audit itself is replaced by small scripts that answer as it does, so no network is needed."""

import importlib.util
import json
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("ci_audit", REPO / ".ci" / "audit.py")
audit = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = audit  # dataclasses look their module up there
spec.loader.exec_module(audit)

LOCK = """\
httpx==0.28.1 \\
    --hash=sha256:aaaa
    # via member-pulse
jinja2==3.1.2 \\
    --hash=sha256:bbbb
"""
VULNERABLE = {
    "dependencies": [
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}],
        },
    ]
}


def fake_pip_audit(tmp_path: Path, body: str) -> Path:
    """An executable standing in for pip-audit; `body` is Python run with its argv."""
    script = tmp_path / "pip-audit"
    script.write_text(f"#!{sys.executable}\nimport sys, json\nargv = sys.argv\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def writes_report(report: dict) -> str:
    return f"open(argv[argv.index('--output') + 1], 'w').write({json.dumps(report)!r})"


def test_a_known_vulnerability_fails_and_names_package_advisory_and_fix(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    report = audit.run_pip_audit(lock, fake_pip_audit(tmp_path, writes_report(VULNERABLE)))
    verdict = audit.judge(report, strict=False)
    assert verdict.exit_code == 1
    assert "VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in verdict.report
    assert "httpx" not in verdict.report.split("\n", 1)[1]


def test_the_lock_is_read_hash_checked_without_installing(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    seen = tmp_path / "argv.json"
    body = f"open({str(seen)!r}, 'w').write(json.dumps(argv[1:]))\n" + writes_report(VULNERABLE)
    audit.run_pip_audit(lock, fake_pip_audit(tmp_path, body))
    args = json.loads(seen.read_text())
    assert args[args.index("--requirement") + 1] == str(lock)
    assert {"--require-hashes", "--disable-pip"} <= set(args)


def test_an_unreachable_service_is_reported_not_audited_and_fails_only_when_strict(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    crash = "sys.stderr.write('ConnectionError: Failed to resolve the service\\n'); sys.exit(1)"
    report = audit.run_pip_audit(lock, fake_pip_audit(tmp_path, crash))
    assert [(d["name"], d["version"]) for d in report["dependencies"]] == [
        ("httpx", "0.28.1"),
        ("jinja2", "3.1.2"),
    ]
    lenient = audit.judge(report, strict=False)
    assert lenient.exit_code == 0
    assert "NOT AUDITED: 2 packages" in lenient.report
    assert "pip-audit exited 1: ConnectionError: Failed to resolve the service" in lenient.report
    assert "nothing was audited" in lenient.report
    assert audit.judge(report, strict=True).exit_code == 1


def test_a_clean_lock_passes_and_a_partial_audit_says_what_was_not_checked() -> None:
    clean = {"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}]}
    assert audit.judge(clean, strict=True) == audit.Verdict(
        0, "dependency audit: 1 pinned packages, 1 audited\nno known vulnerability"
    )
    partial = {
        "dependencies": [
            {"name": "httpx", "version": "0.28.1", "vulns": []},
            {"name": "jinja2", "version": "3.1.2", "skip_reason": "not found"},
        ]
    }
    verdict = audit.judge(partial, strict=False)
    assert verdict.exit_code == 0
    assert "1 audited" in verdict.report and "NOT AUDITED: 1 packages" in verdict.report
    assert "the rest were not checked" in verdict.report


@pytest.mark.parametrize("strict_env, expected", [("1", 1), ("", 0)])
def test_audit_strict_in_the_environment_turns_unaudited_into_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strict_env: str, expected: int
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    monkeypatch.setenv("AUDIT_STRICT", strict_env)
    monkeypatch.setattr(audit, "PIP_AUDIT", fake_pip_audit(tmp_path, "sys.exit(1)"))
    assert audit.main(["--lock", str(lock)]) == expected
