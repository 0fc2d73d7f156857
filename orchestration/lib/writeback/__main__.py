"""Print exactly what write-back would send to iMIS, one JSON object per line, sending nothing.

    python -m orchestration.lib.writeback [--kind sentiment_log|follow_up_case|...]

Works from the items snapshot the `writeback/items` asset keeps in
$PULSE_HOME/writeback_ledger.sqlite, the reviewers' decisions in app_state.sqlite and the
write-back configuration (PULSE_WRITEBACK_CONFIG). Records nothing, calls no iMIS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from orchestration.lib.app_state import AppState
from orchestration.lib.config import Settings

from .config import WritebackConfigError, load_writeback_config
from .ledger import WritebackLedger
from .plan import KINDS, latest_case_decisions
from .run import run_writeback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.lib.writeback", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--kind", choices=KINDS, action="append", help="default: every kind")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        config = load_writeback_config()
    except WritebackConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ledger = WritebackLedger(settings.paths.writeback_ledger)
    items = ledger.snapshot()
    if not items:
        print(
            f"no items snapshot in {ledger.path}: materialize writeback/items first",
            file=sys.stderr,
        )
        return 1
    decisions = latest_case_decisions(AppState(settings.paths.app_state).decisions())
    app_url = os.environ.get("PULSE_APP_URL") or "http://127.0.0.1:8501"
    enabled = {"sentiment_log": True, "follow_up_case": config.follow_up_cases.enabled,
               "alert_group": config.alert_group.enabled, "thank_you": config.thank_you.enabled}  # fmt: skip
    for kind in args.kind or [k for k in KINDS if enabled[k]]:
        report = run_writeback(
            kind, items, config, ledger, None, start=config.effective_start(settings.start_date),
            timezone=settings.timezone, decisions=decisions, app_url=app_url, dry_run=True,
        )  # fmt: skip
        for line in report.would_write:
            print(json.dumps(line, ensure_ascii=False, default=str))
        print(
            f"# {kind}: {len(report.would_write)} to write, {report.unchanged} unchanged, "
            f"{report.skipped} skipped",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
