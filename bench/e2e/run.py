"""End-to-end scale: the whole pipeline over a sandbox of N items, then one new day.

    .venv/bin/python -m bench.e2e.run [--items 100000] [--days 365] [--new-day-items 1000]
                                      [--work-dir DIR] [--keep] [--more-days N]

Generates the iMIS sandbox at N items (members N/20, 100 to 50,000), serves it on 127.0.0.1 in
its own process, and runs `orchestration.cli pipeline` in a fresh PULSE_HOME: first the full
backfill of the history with the built-in model, then, after `append_day` adds a day of new
items to the running sandbox, that day's partition alone (ingest, enrichment, load, dbt,
publish), as the hourly tail would. Per stage it reports wall seconds (from the run's Dagster
step events) and items/s over the run's items; per run the wall time of the whole command
(Python and Dagster start-up included), items/s end to end, and the peak RSS of the pipeline's
process tree (sampled from /proc every 0.5 s, children summed: an upper bound, as pages shared
after a fork count once per process). Progress: a line at each step and every 30 s. DuckDB runs
with PULSE_DUCKDB_MEMORY_LIMIT (--memory-limit). Writes bench/results/e2e_<N>.md and .png.

`--more-days N` resumes a work folder kept with `--keep`: no generation, no backfill; N more
new days, each after the latest day its warehouse holds, or with `--rerun-latest` that latest
day N times (nothing appended; a day stays in the sandbox for good). The first run after a code
change may also prepare that home's dbt manifest or rebuild a mart whose schema changed: read
the later runs for the steady state. Writes e2e_<N>_more_days.md and .png.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from connectors.imis_sandbox import append_day, generate  # noqa: E402

RESULTS = REPO / "bench" / "results"
# A fixed history keeps the sandbox (and so every figure) the same from one run to the next;
# the new day is END itself, the day after the generated window.
END = date(2026, 11, 30)
SEED = 7
STAGES = ("ingest (incl. redaction)", "enrichment", "warehouse load", "dbt build", "publish")
# The rest of the wall time: before the run's first event, from it to RUN_START (Dagster writes
# a planned-materialization event per asset and partition), and what is left (gaps between
# steps, the run's end, the process exit).
OVERHEADS = (
    "start-up: imports, definitions, dbt manifest",
    "run planning: planned events per asset and day",
    "between steps and exit",
)
# A step's stage, from the first path segment of the assets it materializes.
STAGE_OF_KEY = {
    "raw": STAGES[0],
    "enrichment": STAGES[1],
    "enriched": STAGES[2],
    "staging": STAGES[3],
    "intermediate": STAGES[3],
    "marts": STAGES[3],
    "published": STAGES[4],
}
# The goal for an incremental day of 1,000 items, dbt and publish included.
DAY_GOAL_S = 60
# The pipeline's settings come from here alone, never from the caller's environment.
INHERITED_PREFIXES = ("PULSE_", "IMIS_", "DAGSTER_")


def members_for(items: int) -> int:
    """About 20 items per member over a year, as in a busy association; capped at 50,000."""
    return min(50_000, max(100, items // 20))


@dataclass
class RunResult:
    name: str
    items: int = 0
    wall_s: float = 0.0
    peak_rss: int = 0
    cpu_s: float = 0.0  # user + system seconds of the pipeline's process tree
    stage_s: dict[str, float] = field(default_factory=dict)


class TreeMemory:
    """Peak summed RSS of a process and all its descendants, sampled from /proc (a sample
    costs about 20 ms of CPU, 4% of a core at this interval), with a progress line now and
    then: a long step prints nothing else."""

    PAGE = os.sysconf("SC_PAGE_SIZE")

    def __init__(self, pid: int, label: str, interval_s: float = 0.5, report_every_s: float = 30):
        self.pid, self.label, self.interval_s = pid, label, interval_s
        self.report_every_s = report_every_s
        self.peak = self.current = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        started = last_report = time.perf_counter()
        while not self._stop.is_set():
            self.current = self.sample()
            self.peak = max(self.peak, self.current)
            if time.perf_counter() - last_report >= self.report_every_s:
                last_report = time.perf_counter()
                print(f"[{self.label}] {last_report - started:7.1f} s  rss {gb(self.current)}  "
                      f"(peak {gb(self.peak)}) ...", flush=True)  # fmt: skip
            self._stop.wait(self.interval_s)

    def sample(self) -> int:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(entry.path, "stat").read_text()
                except OSError:  # the process ended between listing and reading
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
        total, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self.PAGE
            except OSError:
                continue
        return total


def children_cpu_s() -> float:
    """CPU seconds of this process's finished children and the descendants they waited for
    (the sandbox still runs, so it is not counted). Unlike wall time, it hardly moves with the
    load other jobs put on the machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def start_sandbox(data_dir: Path, items: int, days: int, log_path: Path, *extra_args: str) -> tuple:
    """The sandbox in its own process (its memory and CPU are not the pipeline's)."""
    with log_path.open("w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "connectors.imis_sandbox", "--port", "0", "--data-dir",
             str(data_dir), "--seed", str(SEED), "--members", str(members_for(items)),
             "--items", str(items), "--end-date", END.isoformat(), "--days", str(days),
             *extra_args],
            cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True,
        )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on" in line:
            return process, line.rsplit(" ", 1)[1].strip()
    raise RuntimeError(f"the sandbox did not start; see {log_path}")


def pipeline_env(home: Path, sandbox_url: str, first_day: date, memory_limit: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES)}
    env.update(
        PULSE_HOME=str(home),
        PULSE_START_DATE=first_day.isoformat(),
        PULSE_MODEL="builtin",
        PULSE_HMAC_SECRET="bench-e2e-secret",
        PULSE_DUCKDB_MEMORY_LIMIT=memory_limit,
        IMIS_TIMEZONE="UTC",
        IMIS_BASE_URL=sandbox_url,
        IMIS_USERNAME="pulse",
        IMIS_PASSWORD="pulse-sandbox",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    return env


def run_pipeline(name: str, first: date, last: date, env: dict, log_path: Path) -> RunResult:
    """`orchestration.cli pipeline` for [first, last], with progress on each step start."""
    print(f"[{name}] pipeline {first} .. {last}", flush=True)
    started, launched_at = time.perf_counter(), time.time()
    cpu_before = children_cpu_s()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "pipeline", "--start", first.isoformat(),
             "--end", last.isoformat()],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        with TreeMemory(process.pid, name) as memory:
            for line in process.stdout:
                log.write(line)
                if "STEP_START" in line:
                    step = line.split('"')[1] if '"' in line else line.strip()
                    elapsed = time.perf_counter() - started
                    print(
                        f"[{name}] {elapsed:7.1f} s  rss {gb(memory.current)}  {step}", flush=True
                    )
            code = process.wait()
    wall = time.perf_counter() - started
    if code:
        raise SystemExit(f"[{name}] the pipeline failed (exit {code}); see {log_path}")
    result = step_timings(name, Path(env["PULSE_HOME"]) / "dagster", launched_at)
    result.wall_s, result.peak_rss = wall, memory.peak
    result.cpu_s = children_cpu_s() - cpu_before
    result.stage_s[OVERHEADS[2]] = wall - sum(result.stage_s.values())
    print(
        f"[{name}] done in {wall:.1f} s, {result.items:,} items, peak {gb(memory.peak)}", flush=True
    )
    return result


def step_timings(name: str, dagster_home: Path, launched_at: float) -> RunResult:
    """Seconds per stage, start-up and planning, and the items ingested, from the events of
    the latest run (of a process launched at `launched_at`, epoch seconds)."""
    import dagster as dg

    result = RunResult(name)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        starts: dict[str, float] = {}
        stage_of_step: dict[str, str] = {}
        seconds: dict[str, float] = {}
        # A single-run backfill records one materialization per partition, each carrying the
        # run's totals: count each source once.
        rows_written: dict[tuple[str, ...], int] = {}
        entries = instance.all_logs(run.run_id)
        first_event = entries[0].timestamp
        for entry in entries:
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.RUN_START:
                run_start = entry.timestamp
            elif event.event_type == dg.DagsterEventType.STEP_START:
                starts[event.step_key] = entry.timestamp
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                seconds[event.step_key] = entry.timestamp - starts[event.step_key]
            elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialization = event.step_materialization_data.materialization
                path = materialization.asset_key.path
                stage_of_step.setdefault(event.step_key, STAGE_OF_KEY[path[0]])
                if path[:2] == ["raw", "feedback_items"]:
                    rows_written[tuple(path)] = materialization.metadata["rows_written"].value
    result.items = sum(rows_written.values())
    result.stage_s[OVERHEADS[0]] = first_event - launched_at
    result.stage_s[OVERHEADS[1]] = run_start - first_event
    for step, s in seconds.items():
        stage = stage_of_step[step]
        result.stage_s[stage] = result.stage_s.get(stage, 0.0) + s
    return result


def table(runs: list[RunResult]) -> str:
    header = "| stage | " + " | ".join(f"{r.name}: seconds | {r.name}: items/s" for r in runs)
    lines = [header + " |", "|---|" + "---|---|" * len(runs)]

    def row(label: str, values: list[tuple[float, int]], rate: bool = True) -> str:
        cells = [
            (f"{s:,.1f} | {n / s:,.0f}" if rate else f"{s:,.1f} | ") if s else "- | -"
            for s, n in values
        ]
        return f"| {label} | " + " | ".join(cells) + " |"

    for stage in STAGES:
        lines.append(row(stage, [(r.stage_s.get(stage, 0.0), r.items) for r in runs]))
    for overhead in OVERHEADS:
        lines.append(row(overhead, [(r.stage_s[overhead], r.items) for r in runs], rate=False))
    lines.append(row("**end to end (wall)**", [(r.wall_s, r.items) for r in runs]))
    lines.append("| items | " + " | ".join(f"{r.items:,} | " for r in runs) + " |")
    lines.append(
        "| CPU seconds, pipeline process tree (items per CPU-second) | "
        + " | ".join(f"{r.cpu_s:,.0f} | {r.items / r.cpu_s:,.0f}" for r in runs)
        + " |"
    )
    lines.append(
        "| peak RSS, pipeline process tree | "
        + " | ".join(f"{gb(r.peak_rss)} | " for r in runs)
        + " |"
    )
    return "\n".join(lines)


def goals(backfill: RunResult, day: RunResult) -> str:
    rate = backfill.items / backfill.wall_s
    return "\n".join([
        f"- end to end >= 150 items/s: {rate:,.0f} items/s: {'met' if rate >= 150 else 'NOT met'}",
        f"- incremental day < 60 s (incl. dbt and publish): {day.wall_s:.1f} s: "
        f"{'met' if day.wall_s < DAY_GOAL_S else 'NOT met'}",
        f"- peak memory < 4 GB: backfill {gb(backfill.peak_rss)}, day {gb(day.peak_rss)}: "
        f"{'met' if max(backfill.peak_rss, day.peak_rss) < 4e9 else 'NOT met'}",
        f"- dbt build: full {backfill.stage_s.get('dbt build', 0):.1f} s, "
        f"incremental day {day.stage_s.get('dbt build', 0):.1f} s",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="items in the history")
    parser.add_argument("--days", type=int, default=365, help="days of history")
    parser.add_argument("--new-day-items", type=int, default=1_000)
    parser.add_argument("--memory-limit", default="2GB", help="PULSE_DUCKDB_MEMORY_LIMIT")
    parser.add_argument("--work-dir", type=Path, help="default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--more-days", type=int, default=0,
        help="resume --work-dir (kept with --keep): run this many more new days, no backfill",
    )  # fmt: skip
    parser.add_argument(
        "--rerun-latest", action="store_true",
        help="with --more-days: run the latest day again instead, appending nothing",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.more_days:
        return more_days(args)

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="pulse-bench-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    home, sandbox_dir = work / "home", work / "sandbox"
    shutil.rmtree(home, ignore_errors=True)  # a fresh PULSE_HOME every run
    load_before = load_average()
    first_day = END - timedelta(days=args.days)
    members = members_for(args.items)
    print(f"generating the sandbox: {args.items:,} items, {members:,} members, "
          f"{first_day} .. {END - timedelta(days=1)} ...", flush=True)  # fmt: skip
    started = time.perf_counter()
    generate(sandbox_dir, seed=SEED, members=members, items=args.items, end_date=END,
             days=args.days)  # fmt: skip
    generate_s = time.perf_counter() - started
    print(f"sandbox data ready in {generate_s:.0f} s", flush=True)
    sandbox, url = start_sandbox(sandbox_dir, args.items, args.days, work / "sandbox.log")
    try:
        env = pipeline_env(home, url, first_day, args.memory_limit)
        backfill = run_pipeline(
            "backfill", first_day, END - timedelta(days=1), env, work / "backfill.log"
        )
        print(f"appending {args.new_day_items:,} items on {END} to the sandbox", flush=True)
        append_day(sandbox_dir, END, args.new_day_items)
        day = run_pipeline("new day", END, END, env, work / "new_day.log")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    if not args.keep:  # a failed run keeps its folder: the error names the log to read
        shutil.rmtree(work)
    load_after = load_average()

    heading = (
        f"{datetime.now():%Y-%m-%d %H:%M}: {args.items:,} items over {args.days} days "
        f"({members:,} members, seed {SEED}), then {args.new_day_items:,} new items on {END}; "
        f"built-in model; DuckDB memory_limit {args.memory_limit}; {os.cpu_count()} cores; "
        f"sandbox data ready in {generate_s:.0f} s (generated, or reused from the work folder; "
        f"not counted).\n"
        f"Load average (1 / 5 / 15 min) before {load_before}, after {load_after}."
    )
    report([backfill, day], goals(backfill, day), heading, args.out_dir / f"e2e_{args.items}")
    return 0


def more_days(args: argparse.Namespace) -> int:
    """Run `args.more_days` further new days on a kept work folder's home and sandbox."""
    import duckdb

    if args.work_dir is None or not (args.work_dir / "home" / "warehouse.duckdb").exists():
        raise SystemExit("--more-days needs --work-dir naming a folder a run kept with --keep")
    work = args.work_dir
    home, sandbox_dir = work / "home", work / "sandbox"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        latest, history = con.execute(
            "select max(created_date), count(*) from raw.feedback_items"
        ).fetchone()
    load_before = load_average()
    sandbox, url = start_sandbox(
        sandbox_dir, args.items, args.days, work / "sandbox.log", "--keep-appended-days"
    )
    runs = []
    try:
        env = pipeline_env(home, url, END - timedelta(days=args.days), args.memory_limit)
        for n in range(1, args.more_days + 1):
            day = latest if args.rerun_latest else latest + timedelta(days=n)
            if not args.rerun_latest:
                print(f"appending {args.new_day_items:,} items on {day} to the sandbox", flush=True)
                append_day(sandbox_dir, day, args.new_day_items)
            name = f"day {day} (run {n})"
            runs.append(run_pipeline(name, day, day, env, work / f"day_{day}_{n}.log"))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    summary = "\n".join(
        f"- {r.name}: {r.wall_s:.1f} s end to end "
        f"(< 60 s: {'met' if r.wall_s < DAY_GOAL_S else 'NOT met'}), "
        f"dbt {r.stage_s.get('dbt build', 0):.1f} s, publish {r.stage_s.get('publish', 0):.1f} s, "
        f"peak {gb(r.peak_rss)}"
        for r in runs
    )
    heading = (
        f"{datetime.now():%Y-%m-%d %H:%M}: {args.more_days} more day(s) of {args.new_day_items:,} "
        f"items on {work} ({history:,} items in the warehouse before); "
        f"DuckDB memory_limit {args.memory_limit}; {os.cpu_count()} cores.\n"
        f"Load average (1 / 5 / 15 min) before {load_before}, after {load_average()}."
    )
    report(runs, summary, heading, args.out_dir / f"e2e_{args.items}_more_days")
    return 0


def report(runs: list[RunResult], summary: str, heading: str, stem: Path) -> None:
    """Print the table and summary; write them under `heading` to <stem>.md, the chart to .png."""
    result_table = table(runs)
    print("\n" + result_table + "\n\n" + summary)
    stem.parent.mkdir(parents=True, exist_ok=True)
    md = stem.with_suffix(".md")
    md.write_text(f"{heading}\n\n{result_table}\n\n{summary}\n")
    chart(runs, stem.with_suffix(".png"))
    print(f"\nresults: {md}")


def chart(runs: list[RunResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # New days side by side share one scale so they compare at a glance; a backfill beside
    # its day would flatten the day, so each keeps its own.
    days_only = all("day" in run.name for run in runs)
    fig, axes = plt.subplots(
        1, len(runs), figsize=(5.5 * len(runs), 4.0), squeeze=False, sharex=days_only
    )
    for ax, run in zip(axes[0], runs, strict=True):
        labels = [*STAGES, "other (start-up, planning, gaps)", "end to end"]
        other = sum(run.stage_s[o] for o in OVERHEADS)
        seconds = [run.stage_s.get(s, 0.0) for s in STAGES] + [other, run.wall_s]
        ax.barh(labels, seconds, color=["#3b6ea5"] * len(STAGES) + ["#999999", "#a55b3b"])
        ax.invert_yaxis()
        ax.set_title(f"{run.name}\n{run.items:,} items, peak {gb(run.peak_rss)}", fontsize=10)
        ax.set_xlabel("seconds")
        if "day" in run.name:
            ax.axvline(DAY_GOAL_S, color="#333333", linestyle="--", linewidth=1)
            ax.annotate(f"goal {DAY_GOAL_S} s", (DAY_GOAL_S, 0), xytext=(3, 0),
                        textcoords="offset points", fontsize=8, va="center")  # fmt: skip
        for y, s in enumerate(seconds):
            rate = s and y != len(STAGES)  # no rate for the overheads: they process no items
            ax.annotate(f"{run.items / s:,.0f}/s" if rate else "", (s, y), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    fig.suptitle("Member Pulse end to end (seconds per stage; items/s beside each bar)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"chart: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
