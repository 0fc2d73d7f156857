"""Ingest throughput from the iMIS sandbox: items/s the connector reads, per simulated latency.

    .venv/bin/python -m bench.ingest.throughput [--items 100000] [--latency-ms 0 50]

For each latency the sandbox (127.0.0.1) adds to every request, every configured text source
of the default sources file is read for the sandbox's whole history through the real client
(token auth, paged reads following NextOffset, typed records, HTML e-mails converted), one
request at a time as iMIS asks. Reported: items/s, requests, the page size the server granted,
and wall time. Redaction and the warehouse write are measured by bench/redaction and bench/e2e.
Writes bench/results/ingest_throughput.md and .png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from connectors.imis import ImisClient, iter_source_items  # noqa: E402
from connectors.imis_sandbox import Faults, SandboxServer  # noqa: E402
from connectors.records import SourceItem  # noqa: E402
from connectors.sources import FileSource, SqlSource, load_sources  # noqa: E402
from orchestration.lib.config import DEFAULT_SOURCES  # noqa: E402

RESULTS = REPO / "bench" / "results"
END = date(2026, 6, 30)
DAYS = 365


class CountingTransport(httpx.HTTPTransport):
    """The default transport, counting the requests the client really sends."""

    requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        CountingTransport.requests += 1
        return super().handle_request(request)


def read_everything(url: str, page_size: int) -> tuple[int, int]:
    """(items, problems, requests) for every iMIS source over the sandbox's history."""
    sources = [
        s
        for s in load_sources(DEFAULT_SOURCES).sources
        if not isinstance(s, FileSource | SqlSource)
    ]
    start = datetime.combine(END - timedelta(days=DAYS + 1), datetime.min.time())
    end = datetime.combine(END + timedelta(days=1), datetime.min.time())
    items = problems = 0
    with ImisClient(
        url, "pulse", "pulse-sandbox", page_size=page_size, transport=CountingTransport()
    ) as client:
        for source in sources:
            for record in iter_source_items(client, source, start, end):
                if isinstance(record, SourceItem):
                    items += 1
                else:
                    problems += 1
            print(f"  {source.name}: {items + problems:,} rows so far", flush=True)
    return items, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50])
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pulse-bench-ingest-") as tmp:
        print(f"generating a sandbox of {args.items:,} items ...", flush=True)
        started = time.perf_counter()
        faults = Faults()
        with SandboxServer(Path(tmp), members=max(500, args.items // 20), items=args.items,
                           end_date=END, days=DAYS, seed=41, faults=faults) as server:  # fmt: skip
            print(f"sandbox ready in {time.perf_counter() - started:.0f} s", flush=True)
            for latency in args.latency_ms:
                faults.latency_ms = latency
                faults.injected.clear()
                CountingTransport.requests = 0
                print(f"reading at {latency} ms per request ...", flush=True)
                started = time.perf_counter()
                items, problems = read_everything(server.url, args.page_size)
                seconds = time.perf_counter() - started
                requests = CountingTransport.requests
                rows.append((latency, items, problems, requests, args.page_size, seconds))
    lines = [
        "| latency per request | items | problems | requests | page size | seconds | items/s |",
        "|---|---|---|---|---|---|---|",
    ] + [
        f"| {lat} ms | {n:,} | {p:,} | {r:,} | {page} | {s:.1f} | {n / s:,.0f} |"
        for lat, n, p, r, page, s in rows
    ]
    table = "\n".join(lines)
    print("\n" + table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest_throughput.md").write_text(table + "\n")
    _chart(rows, RESULTS / "ingest_throughput.png")
    return 0


def _chart(rows: list[tuple], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"{r[0]} ms" for r in rows]
    ax.bar(labels, [r[1] / r[5] for r in rows], color="#3b6ea5")
    ax.set_title("iMIS ingest throughput (sandbox, one request at a time)")
    ax.set_xlabel("latency added per request")
    ax.set_ylabel("items per second")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"chart: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
