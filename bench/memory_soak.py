"""The soak of `bench/run.py`, in-process: does memory level off, and where do the caches end?

    rm -f /tmp/soak.db*; cp deals100k.db /tmp/soak.db   # from `flask seed-demo --deals 100000`
    DATABASE_URL=sqlite:////tmp/soak.db python -m bench.memory_soak [--requests 20000]
        [--every 2500] [--tracemalloc FRAMES] [--top 6]

One process, the Flask test client, Alice logged in (and Rita for registrations, as in
run.py): `--requests` requests of run.py's soak mix (`soak_mix`: every endpoint of
`endpoints`, then the varied index views with a new amount or search word each time,
`SOAK_BATCH` of each in a row, the two "connections" alternating), after one request
of each to load templates and modules. Every `--every` requests, after
`gc.collect()`, one line: the process's RSS, PSS and USS (`/proc/self/smaps_rollup`),
with `--tracemalloc` the traced Python heap, the load average, and the size and
hits/misses of each bounded cache: every `functools` cache of the app's modules, the
app's statement cache (`query._statements`), the search routes (`search._common`) and
SQLAlchemy's compiled cache. `--tracemalloc N` traces with N frames (1 is enough and
already slows the soak by about half; 25 is far too slow) and prints, at each reading,
the lines whose allocations grew most since the last one. The database is written to
(the mix's saves): use a fresh copy, with no `-wal`/`-shm` files of an earlier run beside
it (SQLite would apply them to the copy: "database disk image is malformed"). Nothing here
runs in the tests.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
import time
import tracemalloc
from collections import Counter, OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SHARED_DEALS_AUTO_SETUP", "0")

from bench.run import (  # noqa: E402
    EMAIL,
    SOAK_BATCH,
    endpoints,
    lookups,
    soak_mix,
    varied_endpoints,
)
from bench.server import create_app  # noqa: E402
from bench.sessions import log_in_as  # noqa: E402

CONNECTIONS = 2  # the soak's two "connections": each flips its own values


class ClientSession:
    """run.py's Session, in-process: a logged-in test client (it keeps its own cookies)."""

    csrf = ""  # the app is made with WTF_CSRF_ENABLED off

    def __init__(self, app, email: str):
        self.app, self.client = app, app.test_client()
        with app.app_context():
            log_in_as(app, self.client, email)

    def header(self) -> dict:
        return {}

    def transport(self, method, path, headers, body):
        response = self.client.open(path, method=method, headers=headers, data=body)
        return response.status_code, response.get_data(), list(response.headers.items())

    def as_user(self, email: str) -> ClientSession:
        return ClientSession(self.app, email)


class CountingDict(OrderedDict):
    """An OrderedDict that counts its get() hits and misses (the app's LRU dicts use get)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hits = self.misses = 0

    def get(self, key, default=None):
        found = super().get(key, default)
        if found is default:
            self.misses += 1
        else:
            self.hits += 1
        return found


def functools_caches() -> dict:
    """Every functools cache (lru_cache, cache) defined in the app's own modules."""
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if not path.startswith(str(ROOT)) or "/.venv/" in path or name.startswith("bench"):
            continue
        for attr, value in vars(module).items():
            if isinstance(value, functools._lru_cache_wrapper) and value.__module__ == name:
                found[f"{name}.{attr}"] = value
    return found


def smaps_mb() -> dict:
    """RSS, PSS and USS (private clean + dirty) of this process, MB."""
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0])
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return {
        k: round(v / 1024, 1)
        for k, v in (("rss", fields["Rss"]), ("pss", fields["Pss"]), ("uss", uss))
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=2_500, help="requests between readings")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES", help="0: off")
    parser.add_argument("--top", type=int, default=6, help="growth sites shown per reading")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        parser.error("set DATABASE_URL to a copy of a seeded database")

    from extensions import db
    from services import search
    from services.deal_index import query

    app = create_app({"WTF_CSRF_ENABLED": False})
    query._statements = CountingDict(query._statements)
    search._common = CountingDict(search._common)
    compiled = Counter()
    with app.app_context():
        engine = db.engine

    def count_compiled(conn, cursor, statement, parameters, context, executemany):
        compiled[str(getattr(context, "cache_hit", "none"))] += 1

    import sqlalchemy as sa

    sa.event.listen(engine, "after_cursor_execute", count_compiled)

    ids = lookups(url)
    session = ClientSession(app, EMAIL)
    mix = soak_mix(endpoints(ids), varied_endpoints())
    state: dict = {}
    statuses: Counter = Counter()
    for endpoint in mix:  # templates, modules, first statements
        endpoint.call(session, 0, state)

    caches = functools_caches()
    if args.tracemalloc:
        tracemalloc.start(args.tracemalloc)
    snapshot = None
    started = time.monotonic()

    def reading(done: int) -> None:
        nonlocal snapshot
        gc.collect()
        memory = smaps_mb()
        parts = [
            f"{done:>6,} req",
            f"{time.monotonic() - started:6.0f} s",
            f"load {os.getloadavg()[0]:.2f}",
            f"RSS {memory['rss']} PSS {memory['pss']} USS {memory['uss']} MB",
        ]
        if args.tracemalloc:
            current, peak = tracemalloc.get_traced_memory()
            parts.append(f"traced {current / 1e6:.1f} MB (peak {peak / 1e6:.1f})")
        print(" | ".join(parts), flush=True)
        sizes = []
        for name, function in caches.items():
            info = function.cache_info()
            short = name.rsplit(".", 1)[-1]
            sizes.append(f"{short} {info.currsize}/{info.maxsize} ({info.hits}h {info.misses}m)")
        for name, kept in (("statements", query._statements), ("search routes", search._common)):
            sizes.append(f"{name} {len(kept)} ({kept.hits}h {kept.misses}m)")
        cache = engine._compiled_cache
        hits = ", ".join(f"{k.rsplit('.', 1)[-1].lower()} {v}" for k, v in sorted(compiled.items()))
        sizes.append(f"compiled {len(cache)}/{cache.capacity} ({hits})")
        print("    " + "; ".join(sizes), flush=True)
        if args.tracemalloc:
            now = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            if snapshot is not None:
                for stat in now.compare_to(snapshot, "lineno")[: args.top]:
                    frame = stat.traceback[0]
                    where = frame.filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
                    print(
                        f"      {stat.size_diff / 1e3:+8.0f} kB {stat.count_diff:+7d} blocks"
                        f"  {where}:{frame.lineno}",
                        flush=True,
                    )
            snapshot = now

    done = 0
    reading(done)
    while done < args.requests:
        for endpoint in mix:
            for n in range(SOAK_BATCH):
                status, _, _ = endpoint.call(session, n % CONNECTIONS, state)
                statuses[(endpoint.name, status)] += 1 if status not in (200, 303) else 0
                done += 1
                if done % args.every == 0:
                    reading(done)
                if done >= args.requests:
                    break
            if done >= args.requests:
                break
    other = {k: v for k, v in statuses.items() if v}
    print(f"statuses other than 200/303: {other or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
