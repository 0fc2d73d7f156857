"""LLM enrichment throughput against the fake OpenAI-compatible server (127.0.0.1 only).

    .venv/bin/python -m bench.enrichment_llm.throughput [--items 10000] [--anchor-items 500]

Every call to the fake model takes `--latency` seconds (250 ms), like a hosted model. The fake
runs in its own process (`FakeModelServerProcess`), as a provider would.

anchor        one sequential call per item (batch 1, concurrency 1), on an `--anchor-items` sample
ours          `enrich_with_cache` + `LiteLLMEnricher` defaults (8 items a call, 8 calls in flight)
ours, cached  the same items again, through the same label cache: no call at all
ours, faults  fresh cache, a server answering 10% of calls malformed and 10% with 429 +
              Retry-After: every item must end ok or failed, none lost

Model id `openai/gpt-4o-mini` (pointed at the fake server), so the structured-output choice and
the cost column come from litellm's local cost map; tokens are the fake's estimate (4 chars a
token). Writes bench/results/enrichment_llm.md and enrichment_llm.png.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# The fake server ignores the key; litellm's OpenAI client wants one. Never a real key here.
os.environ["OPENAI_API_KEY"] = "sk-bench-fake-server-only"

from orchestration.lib.config import DEFAULT_TAXONOMY  # noqa: E402
from orchestration.lib.enrichment.cache import LabelCache, enrich_with_cache  # noqa: E402
from orchestration.lib.enrichment.llm import LiteLLMEnricher  # noqa: E402
from orchestration.lib.enrichment.schema import Channel, EnrichmentInput, LabelResult  # noqa: E402
from orchestration.lib.taxonomy import Taxonomy  # noqa: E402
from tests.fakes.fake_model_server import FakeModelServerProcess  # noqa: E402

MODEL = "openai/gpt-4o-mini"
RESULTS = REPO / "bench" / "results"

_OPENINGS = [
    "Hi team,", "Hello,", "Quick note:", "Feedback from the survey:", "To whom it may concern,",
    "Just wanted to say", "Honestly,", "As a long-time member,", "Re: my account -", "",
]  # fmt: skip
_BODIES = [
    "the renewal process was confusing and I was charged twice for my dues.",
    "the event registration for the annual conference was quick and easy, thanks!",
    "I cannot log in to the member portal since the last update.",
    "the dues increase this year is hard to justify for early-career members.",
    "the webinar on advocacy was excellent and the speakers were great.",
    "nobody answered my email about the certification exam deadline.",
    "<PERSON_1> at the front desk was so helpful with my renewal question.",
    "please add more chapter events in the north region, they are always full.",
    "the journal arrives late every month and the articles feel dated.",
    "I will not renew my membership next year unless the value improves.",
    "the job board has very few listings for my field.",
    "the online community forum is a great place to ask questions.",
]
_CLOSINGS = [
    "Thanks.", "Regards.", "Please fix this.", "Keep it up!", "Any update would help.",
    "Appreciate it.", "Best,", "",
]  # fmt: skip


def bench_items(n: int, seed: int) -> list[EnrichmentInput]:
    """`n` distinct, deterministic, already-redacted texts in the style of member feedback."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        text = " ".join(
            part
            for part in (
                rng.choice(_OPENINGS),
                rng.choice(_BODIES),
                rng.choice(_BODIES) if rng.random() < 0.4 else "",
                rng.choice(_CLOSINGS),
                f"(ref {i:05d})",
            )
            if part
        )
        channel: Channel = rng.choice(["email", "survey", "community", "case"])
        items.append(EnrichmentInput.from_text(f"bench:{i}", text, channel))
    return items


def progress_printer(label: str, total: int) -> Callable[[int, int], None]:
    started = time.perf_counter()
    last = [0.0]

    def report(done: int, _total: int) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < 1.0:
            return
        last[0] = now
        rate = done / max(now - started, 1e-9)
        print(f"  {label}: {done:,}/{total:,} ({rate:,.0f} items/s)", file=sys.stderr, flush=True)

    return report


@dataclass
class Run:
    label: str
    items: int
    seconds: float
    calls: int
    ok: int
    failed: int
    lost: int
    retries: int = 0
    rate_limited: int = 0
    repair_calls: int = 0
    repaired: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")


def outcome_counts(
    items: Sequence[EnrichmentInput], results: Sequence[LabelResult]
) -> tuple[int, int, int]:
    """(ok, failed, lost): lost = items with no result of their own."""
    by_id = {r.item_id: r for r in results}
    lost = sum(1 for item in items if item.item_id not in by_id) + max(0, len(items) - len(results))
    ok = sum(r.status == "ok" for r in by_id.values())
    failed = sum(r.status == "failed" for r in by_id.values())
    return ok, failed, lost


def run_cached(
    label: str,
    enricher: LiteLLMEnricher,
    cache: LabelCache,
    items: list[EnrichmentInput],
    srv: FakeModelServerProcess,
    taxonomy: Taxonomy,
) -> Run:
    calls_before = srv.calls
    report = progress_printer(label, len(items))
    done = [0]
    step = enricher.cache_batch_size

    def chunk_progress(n: int, _total: int) -> None:
        report(done[0] + n, len(items))

    enricher.progress = chunk_progress
    results: list[LabelResult] = []
    started = time.perf_counter()
    for start in range(0, len(items), step):
        chunk = items[start : start + step]
        out, _ = enrich_with_cache(enricher, cache, chunk, batch_size=step, taxonomy=taxonomy)
        results.extend(out)
        done[0] += len(chunk)
        report(done[0], len(items))
    seconds = time.perf_counter() - started
    ok, failed, lost = outcome_counts(items, results)
    s = enricher.stats
    return Run(
        label, len(items), seconds, srv.calls - calls_before, ok, failed, lost, s.retries,
        s.rate_limited, s.repair_calls, s.items_repaired, s.tokens_in, s.tokens_out, s.cost_usd,
    )  # fmt: skip


def write_chart(runs: list[Run], path: Path, anchor_rate: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    shown = [r for r in runs if r.seconds > 0]
    bars = left.barh([r.label for r in shown], [r.rate for r in shown], color="#4c72b0")
    left.set_xscale("log")
    left.set_xlim(right=max(r.rate for r in shown) * 8)  # room for the labels
    left.set_xlabel("items per second (log scale)")
    left.invert_yaxis()
    for bar, r in zip(bars, shown, strict=True):
        left.text(
            bar.get_width(), bar.get_y() + bar.get_height() / 2,
            f"  {r.rate:,.0f}/s ({r.rate / anchor_rate:,.0f}x)", va="center", fontsize=9,
        )  # fmt: skip
    left.set_title("Throughput vs one sequential call per item")
    fault = next((r for r in runs if "faults" in r.label), None)
    if fault is not None:
        first_try = fault.ok - fault.repaired
        values = [first_try, fault.repaired, fault.failed, fault.lost]
        names = ["ok first reply", "ok after repair", "failed (to review)", "lost"]
        colors = ["#55a868", "#8172b2", "#c44e52", "#000000"]
        right.bar(names, values, color=colors)
        for i, v in enumerate(values):
            right.text(i, v, f"{v:,}", ha="center", va="bottom", fontsize=9)
        right.set_title("Fault run: where every item ended")
        right.tick_params(axis="x", labelrotation=15)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--anchor-items", type=int, default=500)
    ap.add_argument("--latency", type=float, default=0.25, help="seconds per fake model call")
    ap.add_argument("--retry-after", type=float, default=0.5, help="Retry-After of the 429s")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(list(argv) if argv is not None else None)

    taxonomy = Taxonomy.load(DEFAULT_TAXONOMY)
    items = bench_items(args.items, args.seed)
    sample = items[: args.anchor_items]
    chars = sum(len(i.text) for i in items) / max(len(items), 1)
    runs: list[Run] = []

    with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
        with FakeModelServerProcess(latency_s=args.latency, usage=None, seed=args.seed) as srv:
            # anchor: one sequential call per item, no cache
            anchor = LiteLLMEnricher(taxonomy, MODEL, api_base=srv.api_base, batch_size=1,
                                     max_concurrency=1)  # fmt: skip
            anchor.progress = progress_printer("anchor", len(sample))
            started = time.perf_counter()
            results = anchor.enrich(sample)
            seconds = time.perf_counter() - started
            ok, failed, lost = outcome_counts(sample, results)
            s = anchor.stats
            runs.append(Run("anchor: 1 call per item, sequential", len(sample), seconds,
                            srv.calls, ok, failed, lost, s.retries, s.rate_limited,
                            s.repair_calls, s.items_repaired, s.tokens_in, s.tokens_out,
                            s.cost_usd))  # fmt: skip

            cache = LabelCache(Path(tmp) / "labels.sqlite")
            ours = LiteLLMEnricher(taxonomy, MODEL, api_base=srv.api_base)
            runs.append(run_cached(
                f"ours: {ours.batch_size} items/call, {ours.max_concurrency} in flight",
                ours, cache, items, srv, taxonomy,
            ))  # fmt: skip
            again = LiteLLMEnricher(taxonomy, MODEL, api_base=srv.api_base)
            runs.append(run_cached("ours, cached: second run", again, cache, items, srv, taxonomy))
            structured = ours.response_format_mode

        with FakeModelServerProcess(latency_s=args.latency, usage=None, seed=args.seed + 1,
                             rate_malformed=0.1, rate_429=0.1,
                             retry_after_s=args.retry_after) as srv:  # fmt: skip
            cache = LabelCache(Path(tmp) / "labels-faults.sqlite")
            faulty = LiteLLMEnricher(taxonomy, MODEL, api_base=srv.api_base)
            runs.append(run_cached("ours, faults: 10% malformed, 10% 429", faulty, cache, items,
                                   srv, taxonomy))  # fmt: skip
            outcomes = srv.stats()["outcomes"]

    anchor_rate = runs[0].rate
    header = (
        "| run | items | model calls | items/call | seconds | items/s | x anchor | ok | failed "
        "| lost | retries (429s) | repair calls | tokens in/out | cost USD |"
    )
    lines = [header, "|" + "---|" * 14]
    for r in runs:
        lines.append(
            f"| {r.label} | {r.items:,} | {r.calls:,} | "
            f"{(r.items / r.calls if r.calls else float('inf')):.1f} | {r.seconds:.1f} | "
            f"{r.rate:,.0f} | {r.rate / anchor_rate:,.1f} | {r.ok:,} | {r.failed:,} | {r.lost} | "
            f"{r.retries} ({r.rate_limited}) | {r.repair_calls} | "
            f"{r.tokens_in:,}/{r.tokens_out:,} | {r.cost_usd:.4f} |"
        )
    main_run, cached_run, fault_run = runs[1], runs[2], runs[3]
    goals = [
        ("at most 1 call per 8 items (ours)", main_run.calls * 8 <= main_run.items,
         f"{main_run.calls:,} calls for {main_run.items:,} items"),
        (">= 20x the anchor's items/s", main_run.rate >= 20 * anchor_rate,
         f"{main_run.rate / anchor_rate:,.1f}x"),
        ("zero calls on the second run", cached_run.calls == 0, f"{cached_run.calls} calls"),
        ("faults: every item ok or failed, none lost",
         fault_run.lost == 0 and fault_run.ok + fault_run.failed == fault_run.items,
         f"{fault_run.ok:,} ok, {fault_run.failed:,} failed, {fault_run.lost} lost"),
    ]  # fmt: skip
    goal_lines = [
        f"- {name}: {'met' if met else 'NOT met'} ({detail})" for name, met, detail in goals
    ]
    intro = (
        f"{len(items):,} distinct items (mean {chars:.0f} chars, seed {args.seed}); anchor on the "
        f"first {len(sample):,}. Fake server on 127.0.0.1, {args.latency * 1000:.0f} ms per call; "
        f"model id {MODEL} (response_format: {structured}; cost from litellm's local cost map, "
        f"tokens estimated by the fake at 4 chars a token). Fault run: server outcomes "
        f"{outcomes}, Retry-After {args.retry_after:g} s."
    )
    print()
    print(intro)
    print("\n".join(lines))
    print("\n".join(goal_lines))

    args.out.mkdir(parents=True, exist_ok=True)
    chart = args.out / "enrichment_llm.png"
    write_chart(runs, chart, anchor_rate)
    md = args.out / "enrichment_llm.md"
    md.write_text(
        "# LLM enrichment throughput\n\n"
        f"`.venv/bin/python -m bench.enrichment_llm.throughput`, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        f"{intro}\n\n" + "\n".join(lines) + "\n\n" + "\n".join(goal_lines) + "\n\n"
        f"![throughput]({chart.name})\n",
        encoding="utf-8",
    )
    print(f"\nwrote {md.relative_to(REPO) if md.is_relative_to(REPO) else md} and {chart.name}")
    return 0 if all(met for _, met, _ in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
