"""The app state survives a crash: a process SIGKILLed while it records review decisions loses
none it had committed, and leaves a database that opens and passes `integrity_check`. A backup
taken with `python -m orchestration.cli backup-state` while decisions are being written is
consistent and holds every decision committed before it started."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestration.cli import main as cli_main
from orchestration.lib.app_state import AppState, Decision

REPO = Path(__file__).resolve().parents[3]

# Records decisions in a loop; prints each id only AFTER record() returned (committed).
WRITER = textwrap.dedent(
    """
    import sys
    from orchestration.lib.app_state import AppState, Decision

    state = AppState(sys.argv[1])
    prefix = sys.argv[2]
    i = 0
    while True:
        decision_id = state.record(
            Decision(
                item_id=f"{prefix}:{i % 37}",
                decided_by="reviewer",
                sentiment_label=("positive", "neutral", "negative")[i % 3],
                urgency_level="low",
                topics=["events", "billing"],
                case_action="approve" if i % 2 else None,
                note="x" * (i % 500),  # rows of varying size: pages split and fill
                decision_id=f"{prefix}-{i:06d}",
            )
        )
        print(decision_id, flush=True)
        i += 1
    """
)


def _start_writer(db: Path, prefix: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), prefix],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _committed_then_kill(db: Path, prefix: str, n: int) -> list[str]:
    """Let the writer commit at least `n` decisions, SIGKILL it mid-loop, return the ids it
    reported committed (every line it printed before it died)."""
    process = _start_writer(db, prefix)
    committed: list[str] = []
    try:
        assert process.stdout is not None
        while len(committed) < n:
            line = process.stdout.readline()
            assert line, f"the writer died early: {process.stderr.read()[-2000:]}"
            committed.append(line.strip())
        os.kill(process.pid, signal.SIGKILL)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # Lines printed between our last read and the kill were committed too.
    committed += [line.strip() for line in rest.splitlines() if line.strip()]
    return committed


def _integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("pragma integrity_check").fetchone()[0]
    finally:
        con.close()


def test_sigkill_mid_write_loses_no_committed_decision(tmp_path):
    db = tmp_path / "app_state.sqlite"
    committed: list[str] = []
    for round_no in range(3):  # killed three times, each time at a different moment
        committed += _committed_then_kill(db, f"r{round_no}", 150 + 40 * round_no)
        # Fresh readers after each crash: the WAL is recovered, nothing committed is missing.
        assert _integrity(db) == "ok"
        stored = {d["decision_id"] for d in AppState(db).decisions()}
        missing = [d for d in committed if d not in stored]
        assert not missing, f"{len(missing)} committed decisions lost, e.g. {missing[:3]}"
        # At most the one decision in flight at the kill may exist beyond what was reported.
        assert len(stored) - len(committed) <= 1

    # The store is still writable and its views work after the crashes.
    state = AppState(db)
    state.record(Decision(item_id="r0:1", decided_by="lead", sentiment_label="negative"))
    latest = state.latest_decisions(["r0:1"])
    assert latest["r0:1"]["decided_by"] == "lead"
    assert _integrity(db) == "ok"


def test_backup_state_while_writing_is_consistent(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PULSE_HOME", str(home))
    db = home / "app_state.sqlite"
    AppState(db).record(Decision(item_id="seed:1", decided_by="reviewer", urgency_level="high"))
    (tmp_path / "backups").mkdir()

    process = _start_writer(db, "live")
    try:
        assert process.stdout is not None
        before = [process.stdout.readline().strip() for _ in range(100)]
        # The writer keeps writing while the backup runs.
        assert cli_main(["backup-state", str(tmp_path / "backups")]) == 0
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)

    out = capsys.readouterr().out
    assert "integrity ok" in out
    backups = list((tmp_path / "backups").glob("app_state-*.sqlite"))
    assert len(backups) == 1
    assert _integrity(backups[0]) == "ok"
    stored = {d["decision_id"] for d in AppState(backups[0]).decisions()}
    assert set(before) <= stored  # every decision committed before the backup started
    assert any(d["item_id"] == "seed:1" for d in AppState(backups[0]).decisions())
    assert not list((tmp_path / "backups").glob(".*partial"))

    # A named destination file works too, and a missing store is a clear error.
    assert cli_main(["backup-state", str(tmp_path / "named.sqlite")]) == 0
    assert _integrity(tmp_path / "named.sqlite") == "ok"
    monkeypatch.setenv("PULSE_HOME", str(tmp_path / "empty"))
    assert cli_main(["backup-state", str(tmp_path / "x.sqlite")]) == 2
    assert "no app state" in capsys.readouterr().err
