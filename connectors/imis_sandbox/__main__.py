"""`python -m connectors.imis_sandbox --port 8765 --data-dir data/imis`"""

from __future__ import annotations

import argparse
import contextlib
import time
from datetime import date
from pathlib import Path

from .faults import Faults
from .server import SandboxServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.imis_sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--members", type=int, default=1500)
    parser.add_argument("--items", type=int, default=6000)
    parser.add_argument(
        "--end-date", type=date.fromisoformat, default=None, help="YYYY-MM-DD; default today"
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--keep-appended-days", action="store_true",
        help="serve a data dir with appended days as it is (default: regenerate it)",
    )  # fmt: skip
    parser.add_argument("--username", default="pulse")
    parser.add_argument("--password", default="pulse-sandbox")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--latency-ms", type=int, default=0)
    faults.add_argument("--rate-429", type=float, default=0.0)
    faults.add_argument("--retry-after-s", type=float, default=1)
    faults.add_argument("--rate-5xx", type=float, default=0.0)
    faults.add_argument("--malformed-rate", type=float, default=0.0)
    faults.add_argument("--write-saved-then-500-rate", type=float, default=0.0)
    faults.add_argument("--token-expiry-s", type=int, default=1799)
    faults.add_argument(
        "--revoke-tokens-every-s",
        type=float,
        default=0.0,
        help="revoke every token this often, as an app-pool restart does (0: never)",
    )
    faults.add_argument("--max-page-size", type=int, default=500)
    faults.add_argument("--fault-seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.monotonic()
    server = SandboxServer(
        args.data_dir, port=args.port, host=args.host, seed=args.seed, members=args.members,
        items=args.items, end_date=args.end_date, days=args.days, username=args.username,
        password=args.password, keep_appended_days=args.keep_appended_days,
        faults=Faults(
            latency_ms=args.latency_ms, rate_429=args.rate_429, retry_after_s=args.retry_after_s,
            rate_5xx=args.rate_5xx, malformed_rate=args.malformed_rate,
            write_saved_then_500_rate=args.write_saved_then_500_rate,
            token_expiry_s=args.token_expiry_s, revoke_tokens_every_s=args.revoke_tokens_every_s,
            max_page_size=args.max_page_size, seed=args.fault_seed,
        ),
    )  # fmt: skip
    print(f"data ready in {time.monotonic() - started:.1f}s: {args.data_dir.resolve()}", flush=True)
    print(f"iMIS sandbox listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
