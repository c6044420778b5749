#!/usr/bin/env python3
"""Throughput: many clients at once against `gunicorn -w 2`; see bench/README.md.

Makes and seeds a temporary database like run.py, serves the app with the same
gunicorn command, then lets --clients threads (16), each logged in as its own
session of Alice, send a realistic mix for --seconds (30): 70 % index views and
searches, 20 % deal pages, 10 % saves (team add/remove, which always succeed
because a save applies only the user's own change). Reports requests per
second, p50/p95/p99 per kind and overall, the errors (any status but 200/303),
and floor 2's p95 measured alone just before, so p99 reads as a multiple of it.
Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import (  # noqa: E402 - after the path
    Server,
    Session,
    app_env,
    code_fingerprint,
    drive,
    endpoints,
    flask,
    lookups,
    percentile,
)
from tests import databases  # noqa: E402

MIX = (("index and search", 70), ("deal page", 20), ("save", 10))


def kinds(plan) -> dict[str, list]:
    """The run.py endpoints grouped by the mix's kinds (floors left out)."""
    groups: dict[str, list] = {name: [] for name, _ in MIX}
    for endpoint in plan:
        if endpoint.name.startswith("floor"):
            continue
        if endpoint.method == "POST":
            groups["save"].append(endpoint)
        elif endpoint.name == "deal page":
            groups["deal page"].append(endpoint)
        else:
            groups["index and search"].append(endpoint)
    return groups


def run(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="shared-deals-throughput-") as tmp:
        url = databases.create(args.database_url, Path(tmp))
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        env = app_env(url)
        server = None
        try:
            flask(env, "db", "upgrade")
            flask(env, "seed-demo", "--deals", str(args.deals))
            ids = lookups(url)
            server = Server(env, Path(tmp) / "gunicorn.log")
            plan = endpoints(ids)
            floor = next(e for e in plan if e.name.startswith("floor 2"))
            groups = kinds(plan)
            first = Session(server.port)
            drive(first, floor, 20, time.monotonic() + 60, {})  # workers warm
            floor_latencies, _, _ = drive(first, floor, 200, time.monotonic() + 60, {})
            floor_p95 = percentile(floor_latencies, 95)
            sessions = [Session(server.port) for _ in range(args.clients)]
            return {
                "backend": backend,
                "deals_per_partner": args.deals,
                "clients": args.clients,
                "seconds": args.seconds,
                "floor2_p95_ms": round(floor_p95, 1),
                **hammer(sessions, groups, args.seconds, args.seed),
            }
        finally:
            if server:
                server.stop()
            databases.drop(url)


def hammer(sessions, groups, seconds: float, seed: int) -> dict:
    """Every session in its own thread, picking from the mix until the time is up."""
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    latencies: dict[str, list[float]] = {name: [] for name in names}
    statuses: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(sessions) + 1)
    deadline = [0.0]

    def client(number: int, session) -> None:
        rng = random.Random(seed + number)
        state: dict = {}
        start.wait()
        while time.monotonic() < deadline[0]:
            kind = rng.choices(names, weights)[0]
            endpoint = rng.choice(groups[kind])
            # Each client toggles its own user on the team: "worker" picks it.
            status, _, elapsed = endpoint.call(session, number, state)
            with lock:
                latencies[kind].append(elapsed)
                statuses[status] += 1

    threads = [threading.Thread(target=client, args=(n, s)) for n, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    everything = [ms for values in latencies.values() for ms in values]
    return {
        "requests": len(everything),
        "requests_per_second": round(len(everything) / elapsed, 1),
        "errors": sum(n for status, n in statuses.items() if status not in (200, 303)),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "overall": summary(everything),
        "by_kind": {name: summary(values) for name, values in latencies.items()},
    }


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        **{f"p{p}_ms": round(percentile(values, p), 1) for p in (50, 95, 99)},
    }


def markdown(result: dict) -> str:
    floor = result["floor2_p95_ms"]
    lines = [
        f"### throughput: {result['backend']}, {result['deals_per_partner']:,} deals per "
        f"partner, {result['clients']} clients, {result['seconds']:.0f} s",
        "",
        f"{result['requests']:,} requests, {result['requests_per_second']} requests/s, "
        f"errors {result['errors']} (statuses {result['statuses']}); floor 2 p95 alone "
        f"{floor} ms.",
        "",
        "| kind | n | p50 ms | p95 ms | p99 ms | p99 × floor 2 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [*result["by_kind"].items(), ("all", result["overall"])]
    for name, row in rows:
        if not row["n"]:
            continue
        lines.append(
            f"| {name} | {row['n']:,} | {row['p50_ms']} | {row['p95_ms']} | "
            f"{row['p99_ms']} | {row['p99_ms'] / floor:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=100_000, help="deals per partner")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "code": code_fingerprint(),
    }
    result = run(args)
    meta["load_average_end"] = os.getloadavg()
    print(markdown(result), flush=True)
    if args.out:
        args.out.write_text(json.dumps({"meta": meta, "result": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
