"""`make pipeline` and `make demo`: the whole product on one machine, headless or with its UIs.

    python -m orchestration.cli pipeline   # ingest -> redact -> enrich -> dbt -> publish, exit 0
    python -m orchestration.cli demo       # the same, then serve Dagster and the dashboard
    python -m orchestration.cli erase --member-id ID [--dry-run]
                                           # remove a member's items everywhere (not in iMIS)
    python -m orchestration.cli backup-state DEST
                                           # a consistent copy of the app state (SQLite)

With the default sources (the iMIS sandbox's) and no IMIS_BASE_URL, the sandbox is started on
127.0.0.1 and stopped afterwards (the demo keeps it running). A configuration with only file
sources needs no iMIS at all.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.sources import SourcesConfigError, load_sources
from orchestration.lib.config import REPO_ROOT, Settings
from orchestration.lib.warehouse import Warehouse, WarehouseBusy

log = logging.getLogger("member_pulse")

INSTANCE_CONFIG = Path(__file__).with_name("dagster.yaml")
SANDBOX_USER, SANDBOX_PASSWORD = "pulse", "pulse-sandbox"
# After an erasure: dbt rebuilds every model from the warehouse (the incremental model's window
# is everything without vars) and publish swaps the new marts.duckdb in.
MARTS_REBUILD_SELECTION = "group:transform or key:published/marts"
ERASE_LOCK_WAIT_S = 5.0


def prepare_environment(env: dict[str, str]) -> Settings:
    """Fill in the defaults every process of the run must agree on, in `env` (os.environ)."""
    settings = Settings.from_env(env)
    settings.home.mkdir(parents=True, exist_ok=True)
    env["PULSE_HOME"] = str(settings.home)
    dagster_home = Path(env.get("DAGSTER_HOME") or settings.paths.dagster_home)
    dagster_home.mkdir(parents=True, exist_ok=True)
    env["DAGSTER_HOME"] = str(dagster_home)
    instance_yaml = dagster_home / "dagster.yaml"
    if not instance_yaml.exists() or instance_yaml.read_bytes() != INSTANCE_CONFIG.read_bytes():
        shutil.copyfile(INSTANCE_CONFIG, instance_yaml)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if not env.get("PULSE_HMAC_SECRET"):
        env["PULSE_HMAC_SECRET"] = _local_secret(settings.paths.pii_dir / "hmac_secret")
    return settings


def _local_secret(path: Path) -> str:
    """A per-installation secret for the embedded default; production sets PULSE_HMAC_SECRET."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        log.warning(
            "PULSE_HMAC_SECRET is not set: generated a local one in %s. In production, set it "
            "from your secret store so the known-name hashes survive a rebuild.",
            path,
        )
    return path.read_text().strip()


def start_sandbox_if_needed(settings: Settings, env: dict[str, str], stack: ExitStack) -> None:
    if env.get("IMIS_BASE_URL") or not load_sources(settings.sources_file).needs_imis:
        return
    from connectors.imis_sandbox import SandboxServer  # only the embedded default needs it

    server = SandboxServer(
        settings.home / "sandbox",
        port=int(env.get("PULSE_SANDBOX_PORT") or 0),
        username=SANDBOX_USER,
        password=SANDBOX_PASSWORD,
    )
    stack.enter_context(server)
    env.update(IMIS_BASE_URL=server.url, IMIS_USERNAME=SANDBOX_USER, IMIS_PASSWORD=SANDBOX_PASSWORD)
    log.info("iMIS sandbox serving on %s (user %s)", server.url, SANDBOX_USER)


def partition_range(settings: Settings, start: str | None, end: str | None) -> tuple[str, str]:
    """From the configured start date (or --start) through today in the iMIS time zone."""
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    first = date.fromisoformat(start or settings.start_date)
    last = date.fromisoformat(end) if end else today
    if last < first:
        raise SystemExit(f"the range ends ({last}) before it starts ({first})")
    return first.isoformat(), last.isoformat()


def first_day_with_items(settings: Settings, env: dict[str, str]) -> date | None:
    """The earliest creation day, from PULSE_START_DATE on, on which a configured source holds
    an item; None when none does. iMIS sources are asked by binary search over day windows
    (about 10 one-row count requests each, never a full read); export files are read; for a
    `kind: sql` source the answer is PULSE_START_DATE (its query is the customer's)."""
    from connectors.files import iter_file_items
    from connectors.imis import ImisClient, count_source_items
    from connectors.records import SourceItem
    from connectors.sources import FileSource, SqlSource

    start = date.fromisoformat(settings.start_date)
    stop = datetime.now(ZoneInfo(settings.timezone)).date() + timedelta(days=1)
    firsts: list[date] = []
    imis_sources = []
    for source in load_sources(settings.sources_file).sources:
        if isinstance(source, SqlSource):
            return start
        if isinstance(source, FileSource):
            days = [
                r.created_at.date()
                for r in iter_file_items(source, _midnight(start), _midnight(stop))
                if isinstance(r, SourceItem)
            ]
            if days:
                firsts.append(min(days))
        else:
            imis_sources.append(source)
    if imis_sources and not env.get("IMIS_BASE_URL"):
        return start
    if imis_sources:
        with ImisClient(
            env["IMIS_BASE_URL"], env.get("IMIS_USERNAME", ""), env.get("IMIS_PASSWORD", "")
        ) as client:
            for source in imis_sources:

                def has_items_before(day: date, source=source) -> bool:
                    count = count_source_items(client, source, _midnight(start), _midnight(day))
                    return count > 0

                if not has_items_before(stop):
                    continue
                lo, hi = start, stop  # the answer d is the smallest day with items before d+1
                while lo < hi:
                    mid = lo + (hi - lo) // 2
                    if has_items_before(mid + timedelta(days=1)):
                        hi = mid
                    else:
                        lo = mid + timedelta(days=1)
                firsts.append(lo)
    return min(firsts) if firsts else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


RUNNER_TAG = "member_pulse/runner"


def recover_abandoned_runs(instance) -> list[str]:
    """Fail the runs this runner started whose process is gone, and free their pool slots.

    A `make pipeline` killed mid-step (SIGKILL, OOM, a reboot) leaves its run STARTED and its
    slot in the `duckdb` pool claimed; with no daemon to notice, the next run would wait for
    that slot forever ("Step blocked by limit for pool duckdb"). Runs launched from the UI are
    left to the Dagster daemon's run monitoring.
    """
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRunStatus

    unfinished = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
            tags={RUNNER_TAG: "cli"},
        )
    )
    recovered = []
    for run in unfinished:
        pid = next(
            (
                entry.dagster_event.pid
                for entry in instance.all_logs(run.run_id)
                if entry.dagster_event is not None and entry.dagster_event.pid is not None
            ),
            None,
        )
        if pid is not None and _process_alive(pid):
            continue
        instance.report_run_failed(
            run, f"the process running this run (pid {pid}) ended without finishing it"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning(
            "run %s was abandoned by a killed process (pid %s): marked failed, pool slots freed",
            run.run_id,
            pid,
        )
        recovered.append(run.run_id)
    return recovered


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def run_pipeline(first: str, last: str, select: str | None = None) -> Path:
    """Materialize every asset (or those `select` names, in Dagster's selection syntax, e.g.
    `group:ingest`) for the partition range in one run (single-run backfill)."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.transform.project import dbt_project

    dbt_project()  # parses the dbt project when its manifest is missing or out of date
    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    selected = None
    if select:
        graph = definitions.resolve_asset_graph()
        selected = sorted(dg.AssetSelection.from_string(select).resolve(graph))
        if not selected:
            raise SystemExit(f"--select {select!r} matches no asset")
    log.info(
        "running %s for partitions %s .. %s in one run",
        f"{len(selected)} assets ({select})" if selected else "every asset",
        first,
        last,
    )
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        recover_abandoned_runs(instance)
        result = job.execute_in_process(
            instance=instance,
            asset_selection=selected,
            tags={
                RUNNER_TAG: "cli",
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            },
            raise_on_error=False,
        )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        raise SystemExit(
            f"pipeline run {result.run_id} failed in {', '.join(failed) or 'a step'}; "
            f"open the run in the Dagster UI (make demo) or read {os.environ['DAGSTER_HOME']}"
        )
    log.info("pipeline run %s succeeded in %.0f s", result.run_id, time.monotonic() - started)
    return Settings.from_env().paths.marts


def serve_uis(env: dict[str, str]) -> None:
    """Serve the Dagster UI and the dashboard on 127.0.0.1 until interrupted."""
    dagster_port = env.get("PULSE_DAGSTER_PORT") or "3000"
    app_port = env.get("PULSE_APP_PORT") or "8501"
    bin_dir = Path(sys.executable).parent
    processes = [
        subprocess.Popen(
            [
                str(bin_dir / "dagster"),
                "dev",
                "-m",
                "orchestration.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                dagster_port,
            ],
            cwd=REPO_ROOT,
            env=env,
        ),
        subprocess.Popen(
            [
                str(bin_dir / "streamlit"),
                "run",
                str(REPO_ROOT / "app" / "streamlit_app.py"),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                app_port,
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO_ROOT,
            env=env,
        ),
    ]
    demo_users = (
        not env.get("PULSE_USERS_FILE") and not (REPO_ROOT / "config" / "users.yaml").exists()
    )
    sign_in = "  (demo sign-in: director / pulse-demo)" if demo_users else ""
    print(
        f"\nDagster UI:  http://127.0.0.1:{dagster_port}\n"
        f"Dashboard:   http://127.0.0.1:{app_port}{sign_in}\n"
        f"iMIS sandbox: {env.get('IMIS_BASE_URL', 'not used')}\n"
        "Press Ctrl+C to stop.\n",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def erase(member_id: str, *, dry_run: bool, env: dict[str, str]) -> int:
    """Remove a member's items from every store, then rebuild and republish the marts."""
    from orchestration.lib.erasure import IMIS_NOTICE, erase_member, leftovers

    settings = prepare_environment(env)
    paths = settings.paths
    warehouse = Warehouse(
        paths.warehouse,
        settings.duckdb_memory_limit,
        settings.duckdb_threads,
        lock_wait_s=ERASE_LOCK_WAIT_S,
    )
    try:
        report = erase_member(paths, warehouse, member_id, dry_run=dry_run)
    except WarehouseBusy as exc:
        print(
            f"error: could not take the DuckDB lock on {paths.warehouse} (another process, "
            "e.g. a pipeline run or the Dagster UI materializing, holds it; DuckDB allows one "
            "writer). Nothing was erased. Run erase when the pipeline is not running.\n"
            f"  {exc}",
            file=sys.stderr,
        )
        return 3
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()), flush=True)
    status = 0
    if not dry_run and report.total and paths.marts.exists():
        first, last = rebuild_range(settings, report.days)
        print(f"rebuilding the marts: days {first} .. {last} and every whole-history mart")
        try:
            run_pipeline(first, last, MARTS_REBUILD_SELECTION)
        except SystemExit as exc:
            print(
                f"error: the stores are erased, but rebuilding the marts failed ({exc}); "
                f"marts.duckdb may still hold the member's items until you run\n"
                f"  python -m orchestration.cli pipeline --select '{MARTS_REBUILD_SELECTION}'",
                file=sys.stderr,
            )
            return 4
        left = leftovers(paths, report.member_id, report.item_ids)
        if left:
            print(
                f"error: the rebuilt marts still hold rows of the member: {left}", file=sys.stderr
            )
            status = 4
        else:
            print(
                f"marts rebuilt and republished to {paths.marts}: none of the member's rows remain"
            )
    print(IMIS_NOTICE, flush=True)
    return status


def rebuild_range(settings: Settings, days: tuple[date, date] | None) -> tuple[str, str]:
    """The daily partitions an erasure must rebuild: those the member's items were created on
    (the per-day marts of other days never held them), within the configured range; all of it
    when no store said which days. One run over the span, not one per day: a run's start-up
    costs more than a day of the span."""
    first, last = partition_range(settings, None, None)
    if days is None:
        return first, last
    start, end = max(days[0].isoformat(), first), min(days[1].isoformat(), last)
    return (start, end) if start <= end else (first, last)


def backup_state(dest: str, env: dict[str, str]) -> int:
    """Copy app_state.sqlite (review decisions: the one store not re-derivable from iMIS) with
    SQLite's online backup API: consistent even while the dashboard writes."""
    import sqlite3

    source = Settings.from_env(env).paths.app_state
    if not source.exists():
        print(f"error: no app state at {source} (check PULSE_HOME)", file=sys.stderr)
        return 2
    target = Path(dest)
    if target.is_dir():
        target = target / f"app_state-{datetime.now().strftime('%Y%m%d-%H%M%S')}.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)  # reads only; the WAL needs a normal open
    try:
        out = sqlite3.connect(partial)
        try:
            src.backup(out)
            check = out.execute("pragma integrity_check").fetchone()[0]
            decisions = out.execute("select count(*) from review_decisions").fetchone()[0]
        finally:
            out.close()
    finally:
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        print(f"error: the copy failed its integrity check: {check}", file=sys.stderr)
        return 1
    os.replace(partial, target)
    print(f"app state backed up to {target} ({decisions} review decisions, integrity ok)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["pipeline", "demo", "erase", "backup-state"])
    parser.add_argument("dest", nargs="?", help="backup-state: the backup file or folder")
    parser.add_argument("--start", help="first partition (YYYY-MM-DD); default PULSE_START_DATE")
    parser.add_argument("--end", help="last partition (YYYY-MM-DD); default today")
    parser.add_argument(
        "--select",
        help="only these assets, in Dagster's selection syntax (e.g. 'group:ingest', "
        "'key:enriched/*'); default every asset",
    )
    parser.add_argument("--member-id", help="erase: the iMIS id of the member to erase")
    parser.add_argument(
        "--dry-run", action="store_true", help="erase: count what would go, change nothing"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    env = os.environ
    if args.command == "erase":
        if not args.member_id:
            parser.error("erase needs --member-id")
        return erase(args.member_id, dry_run=args.dry_run, env=env)  # type: ignore[arg-type]
    if args.command == "backup-state":
        if not args.dest:
            parser.error("backup-state needs DEST (a file or folder)")
        return backup_state(args.dest, env)  # type: ignore[arg-type]
    try:
        settings = prepare_environment(env)  # type: ignore[arg-type]
        first, last = partition_range(settings, args.start, args.end)
        with ExitStack() as stack:
            start_sandbox_if_needed(settings, env, stack)  # type: ignore[arg-type]
            if args.start is None:  # skip the days before the sources' first item
                earliest = first_day_with_items(settings, env)  # type: ignore[arg-type]
                if earliest is not None and earliest.isoformat() > first:
                    log.info("the sources' first item is on %s: starting there", earliest)
                    first = min(earliest.isoformat(), last)
            marts = run_pipeline(first, last, args.select)
            print(f"\nMarts published to {marts}\n", flush=True)
            if args.command == "demo":
                serve_uis(dict(env))
    except SourcesConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
