"""Redaction throughput on sandbox text: the Presidio anchor vs ours, in the same run.

    .venv/bin/python -m bench.redaction.throughput [--items 10000] [--seed 29]

anchor       a per-item `AnalyzerEngine.analyze` + `AnonymizerEngine.anonymize` loop over the
             same recognizer registry (Presidio's no_op NLP engine; `Redactor.analyzer`)
ours, batch  `Redactor.redact_batch` in this process
ours, 2 proc `redact_in_processes(processes=2)` (spawned workers, start-up included)

Recall for each: the share of planted values (names, e-mails, phones, member ids, addresses)
that no longer appear verbatim in the output, as the end-to-end PII test checks. Items are the
sandbox's items as the pipeline reads them (e-mail HTML converted); members known as hashes.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.redaction.sandbox import SandboxItem, sandbox_items  # noqa: E402
from orchestration.lib.redaction import Redactor, load_allow_list, redact_in_processes  # noqa: E402


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


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--members", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--vocabulary", type=Path, default=REPO / "config" / "vocabulary.yaml")
    args = ap.parse_args(list(argv) if argv is not None else None)

    with tempfile.TemporaryDirectory(prefix="redaction-bench-") as tmp:
        print(f"generating a sandbox ({args.items} items) ...", file=sys.stderr)
        items, known = sandbox_items(tmp, seed=args.seed, members=args.members, items=args.items)
    texts = [it.text for it in items]
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

    def ours(batch: list[str]) -> list[str]:
        return [r.text for r in redactor.redact_batch(batch)]

    def ours_processes(batch: list[str]) -> list[str]:
        return [r.text for r in redact_in_processes(batch, processes=2, build_kwargs=build_kwargs)]

    rows = []
    step = max(len(texts) // 10, 1)
    for label, fn, fn_step in (
        ("anchor: analyze+anonymize loop", anchor, step),
        ("ours: redact_batch, 1 process", ours, step),
        ("ours: redact_in_processes, 2", ours_processes, len(texts)),
    ):
        out, seconds = timed(label, fn, texts, fn_step)
        r, total, leaked = recall(items, out)
        rows.append((label, len(texts) / seconds, seconds, r, leaked, total))

    anchor_rate = rows[0][1]
    print(
        f"\n{len(texts)} sandbox items, mean {chars:.0f} chars, seed {args.seed}; "
        f"recall = planted values gone from the output"
    )
    print("| run | items/s | seconds | x anchor | recall | leaked / planted |")
    print("|---|---|---|---|---|---|")
    for label, rate, seconds, r, leaked, total in rows:
        print(
            f"| {label} | {rate:,.0f} | {seconds:.1f} | {rate / anchor_rate:.1f} "
            f"| {r:.4f} | {leaked} / {total} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
