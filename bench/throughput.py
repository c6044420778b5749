#!/usr/bin/env python3
"""Throughput: many clients at once against `gunicorn -w 2`; see bench/README.md.

Makes and seeds a temporary database like run.py, serves the app with the same
gunicorn command, then lets --clients threads (16), each logged in as its own
session of Alice, send a realistic mix for --seconds (30): 70 % index views,
searches and the board, 20 % deal pages, 10 % saves (run.py's: a team add or
remove, an amount, product interest, a note, a board move, and as the vendor's
rep a registration added or deregistered; each client changes its own value, so
every save succeeds). Reports requests per second, p50/p95/p99 per kind and
overall, the errors (any status but 200/303, by endpoint) and the tracebacks in
the gunicorn log, and floor 2's p95 measured alone just before, so p99 reads
as a multiple of it (issue 12's target: p99 ≤ 10 × floor 2, 0 errors).
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
    AsUser,
    Server,
    Session,
    app_env,
    code_fingerprint,
    drive,
    endpoints,
    flask,
    git_commit,
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
            for endpoint in groups["save"]:
                if isinstance(endpoint, AsUser):  # logged in now, not during the run
                    endpoint.session = Session(server.port, endpoint.email)
            return {
                "backend": backend,
                "deals_per_partner": args.deals,
                "clients": args.clients,
                "seconds": args.seconds,
                "floor2_p95_ms": round(floor_p95, 1),
                **hammer(sessions, groups, args.seconds, args.seed),
                "server_errors": server_errors(Path(tmp) / "gunicorn.log"),
            }
        finally:
            if server:
                server.stop()
            databases.drop(url)


def server_errors(log: Path) -> list[str]:
    """What gunicorn logged as going wrong: each traceback's last line, worker timeouts."""
    found, lines = [], log.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((t for t in lines[number + 1 :] if t and not t.startswith(" ")), line)
            found.append(tail[:200])
        elif "WORKER TIMEOUT" in line or "[ERROR]" in line:
            found.append(line[:200])
    return found


def hammer(sessions, groups, seconds: float, seed: int) -> dict:
    """Every session in its own thread, picking from the mix until the time is up."""
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    latencies: dict[str, list[float]] = {name: [] for name in names}
    statuses: Counter = Counter()
    errors: Counter = Counter()  # (endpoint, status) of every answer but 200/303
    lock = threading.Lock()
    start = threading.Barrier(len(sessions) + 1)
    deadline = [0.0]

    def client(number: int, session) -> None:
        rng = random.Random(seed + number)
        state: dict = {}
        start.wait()
        while time.monotonic() < deadline[0]:
            kind = rng.choices(names, weights)[0]
            endpoint = rng.choice([e for e in groups[kind] if e.ready()])
            # "worker" is the client's number: the value each save flips is its own.
            status, _, elapsed = endpoint.call(session, number, state)
            with lock:
                latencies[kind].append(elapsed)
                statuses[status] += 1
                if status not in (200, 303):
                    errors[f"{endpoint.name}: {status}"] += 1

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
        "errors": sum(errors.values()),
        "errors_by_endpoint": dict(errors.most_common()),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda item: str(item[0]))},
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
        f"Errors by endpoint: {result['errors_by_endpoint'] or 'none'}; gunicorn log: "
        f"{len(result['server_errors'])} errors {result['server_errors'][:5]}.",
        "",
        "| kind | n | p50 ms | p95 ms | p99 ms | p99 × floor 2 (target ≤ 10) |",
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
        "commit": git_commit(),
    }
    result = run(args)
    meta["load_average_end"] = os.getloadavg()
    print(markdown(result), flush=True)
    print(
        f"\n{meta['date']}, commit {meta['commit']}, code {meta['code']}, "
        f"load average {meta['load_average'][0]:.2f} "
        f"at start, {meta['load_average_end'][0]:.2f} at the end.",
        flush=True,
    )
    if args.out:
        args.out.write_text(json.dumps({"meta": meta, "result": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
