"""Redaction throughput on sandbox text: the Presidio anchor vs ours, in the same run.

    .venv/bin/python -m bench.redaction.throughput [--items 10000] [--seed 29]

anchor       a per-item `AnalyzerEngine.analyze` + `AnonymizerEngine.anonymize` loop over the
             same recognizer registry (Presidio's no_op NLP engine; `Redactor.analyzer`)
ours, item   `Redactor.redact` per item in this process (pre-filters and the direct path, no
             batching)
ours, batch  `Redactor.redact_batch` in this process (also analyses repeated texts once: about
             16% of the sandbox items are repeats, short survey answers mostly)
ours, pool   `RedactorPool(redactor, 2)` fed chunks of 1,000 items, as the ingest feeds
             its redactor: this process plus one worker forked from it, kept for all chunks
             (a freshly built redactor, cold caches; the pool's start and close are timed)
ours, 2 proc `redact_in_processes(processes=2)`: one call on all items (builds its redactor,
             about 0.6 s, then runs a pool for this one batch; all included in the time)

"CPU s, all processes" is the CPU time of the run in this process and its workers: unlike the
wall-clock columns it hardly moves with other load on the machine (on a busy machine two
processes cannot show their speed-up in wall-clock time; the CPU column shows what they cost).

Recall for each: the share of planted values (names, e-mails, phones, member ids, addresses)
that no longer appear verbatim in the output, as the end-to-end PII test checks. Items are the
sandbox's items as the pipeline reads them (e-mail HTML converted); members known as hashes.

Prints the table (progress on stderr) and writes `bench/results/redaction/THROUGHPUT.md` and a
PNG bar chart `throughput.png` (generated, gitignored).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.redaction.sandbox import SandboxItem, sandbox_items  # noqa: E402
from orchestration.lib.redaction import (  # noqa: E402
    Redactor,
    RedactorPool,
    load_allow_list,
    redact_in_processes,
)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished (reaped) child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def recall(items: Sequence[SandboxItem], outputs: Sequence[str]) -> tuple[float, int, int]:
    total = leaked = 0
    for item, out in zip(items, outputs, strict=True):
        for _, value in item.planted:
            total += 1
            if re.search(r"(?<![\w@.])" + re.escape(value) + r"(?![\w@])", out):
                leaked += 1
    return (1 - leaked / total if total else 1.0), total, leaked


def timed(
    label: str, fn: Callable[[list[str]], list[str]], texts: list[str], step: int
) -> tuple[list[str], float]:
    """Run `fn` over `texts` in slices of `step`, printing progress; returns outputs, seconds."""
    out: list[str] = []
    started = time.perf_counter()
    for i in range(0, len(texts), step):
        out.extend(fn(texts[i : i + step]))
        done = min(i + step, len(texts))
        rate = done / (time.perf_counter() - started)
        print(f"  {label}: {done}/{len(texts)} ({rate:,.0f} items/s)", file=sys.stderr, flush=True)
    return out, time.perf_counter() - started


def chart(rows: list[tuple[str, float, float, float, int, int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.6))
    labels = [r[0] for r in rows][::-1]
    rates = [r[1] for r in rows][::-1]
    ax.barh(labels, rates, color=["#F58518" if "ours" in x else "#4C78A8" for x in labels])
    anchor = rows[0][1]
    for i, rate in enumerate(rates):
        ax.text(rate, i, f" {rate:,.0f}/s ({rate / anchor:.1f}x)", va="center", fontsize=8)
    ax.axvline(4 * anchor, color="grey", linestyle=":", linewidth=1)
    ax.text(4 * anchor, len(rates) - 0.4, " 4x anchor", fontsize=8, color="grey")
    ax.set_xlim(0, max(max(rates), 4 * anchor) * 1.3)
    ax.set_xlabel("items per second")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--members", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--vocabulary", type=Path, default=REPO / "config" / "vocabulary.yaml")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "redaction")
    args = ap.parse_args(list(argv) if argv is not None else None)

    with tempfile.TemporaryDirectory(prefix="redaction-bench-") as tmp:
        print(f"generating a sandbox ({args.items} items) ...", file=sys.stderr)
        items, known = sandbox_items(tmp, seed=args.seed, members=args.members, items=args.items)
    texts = [it.text for it in items]
    load_before = os.getloadavg()[0]
    chars = sum(map(len, texts)) / max(len(texts), 1)
    allow = load_allow_list(args.vocabulary)
    build_kwargs = {"known_people": known, "allow_list": allow}
    redactor = Redactor.build(**build_kwargs)

    from presidio_anonymizer import AnonymizerEngine

    analyzer, anonymizer = redactor.analyzer, AnonymizerEngine()

    def anchor(batch: list[str]) -> list[str]:
        return [
            anonymizer.anonymize(t, analyzer.analyze(t, language="en")).text  # type: ignore[arg-type]
            for t in batch
        ]

    def ours_per_item(batch: list[str]) -> list[str]:
        return [redactor.redact(t).text for t in batch]

    def ours(batch: list[str]) -> list[str]:
        return [r.text for r in redactor.redact_batch(batch)]

    def ours_processes(batch: list[str]) -> list[str]:
        return [r.text for r in redact_in_processes(batch, processes=2, build_kwargs=build_kwargs)]

    # The one-process runs are interleaved slice by slice (anchor, ours, ours, then the next
    # slice in another order), so that other load on the machine hits them alike.
    single = (
        ("anchor: analyze+anonymize loop", anchor),
        ("ours: redact() per item, 1 process", ours_per_item),
        ("ours: redact_batch, 1 process", ours),
    )
    step = max(len(texts) // 10, 1)
    outputs: dict[str, list[str]] = {label: [] for label, _ in single}
    seconds: dict[str, float] = dict.fromkeys(outputs, 0.0)
    cpu: dict[str, float] = dict.fromkeys(outputs, 0.0)
    for n, i in enumerate(range(0, len(texts), step)):
        batch = texts[i : i + step]
        order = single[n % 3 :] + single[: n % 3]
        for label, fn in order:
            started, cpu_started = time.perf_counter(), cpu_seconds()
            outputs[label].extend(fn(batch))
            seconds[label] += time.perf_counter() - started
            cpu[label] += cpu_seconds() - cpu_started
        done = min(i + step, len(texts))
        rates = ", ".join(
            f"{label.split(':')[0]} {done / seconds[label]:,.0f}/s" for label, _ in single[:2]
        )
        print(f"  interleaved: {done}/{len(texts)} ({rates})", file=sys.stderr, flush=True)
    rows = []
    for label, _ in single:
        r, total, leaked = recall(items, outputs[label])
        rows.append(
            (label, len(texts) / seconds[label], seconds[label], r, leaked, total, cpu[label])
        )
    fresh = Redactor.build(**build_kwargs)  # built outside the timing, like the anchor's engine
    label = "ours: RedactorPool, 2 processes, chunks of 1,000"
    started, cpu_started = time.perf_counter(), cpu_seconds()
    with RedactorPool(fresh, 2) as pool:
        out, _ = timed(label, lambda b: [r.text for r in pool.redact_batch(b)], texts, 1000)
    secs, cpu_secs = time.perf_counter() - started, cpu_seconds() - cpu_started
    r, total, leaked = recall(items, out)
    rows.append((label, len(texts) / secs, secs, r, leaked, total, cpu_secs))
    label = "ours: redact_in_processes, 2"
    cpu_started = cpu_seconds()
    out, secs = timed(label, ours_processes, texts, len(texts))
    r, total, leaked = recall(items, out)
    rows.append((label, len(texts) / secs, secs, r, leaked, total, cpu_seconds() - cpu_started))

    anchor_rate = rows[0][1]
    lines = [
        f"{len(texts)} sandbox items, mean {chars:.0f} chars, seed {args.seed}; "
        f"recall = planted values gone from the output; {os.cpu_count()} cores, 1-minute "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after",
        "",
        "| run | items/s | seconds | x anchor | CPU s, all processes | recall | leaked / planted |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, rate, seconds, r, leaked, total, cpu_secs in rows:
        lines.append(
            f"| {label} | {rate:,.0f} | {seconds:.1f} | {rate / anchor_rate:.1f} "
            f"| {cpu_secs:.1f} | {r:.4f} | {leaked} / {total} |"
        )
    print("\n" + "\n".join(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "THROUGHPUT.md").write_text(
        "# Redaction throughput\n\n`.venv/bin/python -m bench.redaction.throughput`\n\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    chart(rows, args.out / "throughput.png")
    print(f"wrote {args.out / 'THROUGHPUT.md'} and {args.out / 'throughput.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
