#!/usr/bin/env python3
"""Two checkouts' speed compared through gunicorn, their requests alternated.

On a machine whose speed drifts (floor 2's p50 moved from 1.9 to 4.3 ms within the
hour here, stop 32), two `run.py` runs taken minutes apart cannot tell a change of a
millisecond from the drift. This serves checkout A and checkout B side by side against
the same seeded database (two gunicorns, `-w 2`, as run.py serves one) and sends each
endpoint's requests in alternating batches, A then B, so both meet the same drift:

    git worktree add /tmp/a <commit before>; git worktree add /tmp/b <commit after>
    python bench/ab.py --a /tmp/a --b /tmp/b [--database-url "$PG"] [--deals 100000] \\
        [--batches 10] [--batch 20] [--only board,index]

Both checkouts must be at the same migration: the database is made and seeded by this
checkout (`flask db upgrade`, `flask seed-demo`). Each endpoint is run.py's (its saves
act on the shared database, so both sides share their toggles' state). Reports, per
endpoint, A's and B's p50 and p95 over all their batches and B's as a share of A's;
floor 2 is measured the same way, as a check that the two servers run alike (~1.0).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import (  # noqa: E402 - after the path
    AsUser,
    Server,
    Session,
    app_env,
    drive,
    endpoints,
    flask,
    lookups,
    percentile,
)
from tests import databases  # noqa: E402


def compare(sides: dict, plan, batches: int, batch: int) -> list[tuple]:
    """(endpoint, A's latencies, B's latencies): `batches` rounds of `batch` requests each,
    A then B, an endpoint at a time."""
    rows = []
    for endpoint in plan:
        state: dict = {}  # one database: a save's toggles are the same for both sides
        # An endpoint driven as another user keeps a session of that user on each side.
        others = {}
        if isinstance(endpoint, AsUser):
            others = {name: session.as_user(endpoint.email) for name, session in sides.items()}
        for name in sides:  # unmeasured: workers and caches warm
            _run(sides[name], others.get(name), endpoint, 4, state)
        seen: dict[str, list[float]] = {name: [] for name in sides}
        statuses: dict[str, Counter] = {name: Counter() for name in sides}
        for _ in range(batches):
            for name in sides:
                latencies, answered = _run(sides[name], others.get(name), endpoint, batch, state)
                seen[name] += latencies
                statuses[name] += answered
        rows.append((endpoint.name, seen["A"], seen["B"], statuses["A"], statuses["B"]))
    return rows


def _run(session: Session, other: Session | None, endpoint, count: int, state: dict):
    """`count` requests of `endpoint` on one side (as `other` for an AsUser endpoint):
    (latencies, statuses)."""
    if other is not None:
        endpoint.session = other
    latencies, _, statuses = drive(session, endpoint, count, time.monotonic() + 60, state)
    return latencies, statuses


def table(rows) -> str:
    lines = [
        "| endpoint | A p50 ms | B p50 ms | B / A | A p95 ms | B p95 ms | B / A | statuses A; B |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, a, b, a_statuses, b_statuses in rows:
        a50, b50, a95, b95 = (percentile(x, p) for x, p in ((a, 50), (b, 50), (a, 95), (b, 95)))
        lines.append(
            f"| {name} | {a50:.2f} | {b50:.2f} | {b50 / a50:.2f} "
            f"| {a95:.2f} | {b95:.2f} | {b95 / a95:.2f} "
            f"| {dict(a_statuses)}; {dict(b_statuses)} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, required=True, help="checkout A (before)")
    parser.add_argument("--b", type=Path, required=True, help="checkout B (after)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--deals", type=int, default=100_000, help="deals per partner")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch", type=int, default=20, help="requests per batch and side")
    parser.add_argument("--only", help="comma-separated words: endpoints whose name holds one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shared-deals-ab-") as tmp:
        url = databases.create(args.database_url, Path(tmp))
        env = app_env(url)
        servers = {}
        try:
            flask(env, "db", "upgrade")
            flask(env, "seed-demo", "--deals", str(args.deals))
            ids = lookups(url)
            for name, root in (("A", args.a), ("B", args.b)):
                log = Path(tmp) / f"gunicorn-{name}.log"
                servers[name] = Server(env, log, root=root.resolve())
            plan = [e for e in endpoints(ids) if not e.name.startswith("floor 1")]
            if args.only:
                words = args.only.split(",")
                plan = [
                    e for e in plan if e.name.startswith("floor") or any(w in e.name for w in words)
                ]
            sides = {name: Session(server.port) for name, server in servers.items()}
            print(
                f"A = {args.a}, B = {args.b}; {url.split('@')[-1]}; {args.deals:,} deals per "
                f"partner; {args.batches} batches of {args.batch} requests a side",
                flush=True,
            )
            print(table(compare(sides, plan, args.batches, args.batch)))
        finally:
            for server in servers.values():
                server.stop()
            databases.drop(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
