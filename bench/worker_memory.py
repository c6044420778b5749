"""run.py's soak through gunicorn, with a reading of each forked worker's memory from inside.

    rm -f /tmp/soak.db*; cp deals100k.db /tmp/soak.db   # from `flask seed-demo --deals 100000`
    DATABASE_URL=sqlite:////tmp/soak.db python -m bench.worker_memory [--soak 60000]
        [--every 10000] [--requests 50] [--tracemalloc FRAMES] [--top 15] [--out FILE]

Serves the bench app as run.py does (`gunicorn -w 2`, gunicorn.conf.py: preloaded, frozen),
with `SHARED_DEALS_BENCH_MEMORY=1` so that it answers `/bench/memory` (bench/worker_stats.py).
Then run.py's steps: 20 requests, one round of every endpoint (`--requests` each after
4 unmeasured), 40 of each varied index view, then `--soak` requests of `soak_mix`, and
reads both workers from inside at the start, after the rounds and every `--every`
soak requests: PSS and private memory, glibc's and pymalloc's heaps, the collector's
objects, every bounded cache's size, and with `--tracemalloc N` (tracing from the
start reading, N frames; 1 is enough, it slows requests by about half) the traced heap
and the lines that grew most since the previous reading. The last reading also calls
`malloc_trim(0)` and shows what RSS that gives back. Environment variables pass
through (`MALLOC_ARENA_MAX=2 python -m bench.worker_memory` tries glibc's arenas).
The database is written to (the mix's saves): use a fresh copy. Nothing here runs in
the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    EMAIL,
    SOAK_BATCH,
    Server,
    Session,
    app_env,
    drive,
    endpoints,
    lookups,
    request,
    soak_mix,
    uss_mb,
    varied_endpoints,
)


def read_workers(server: Server, label: str, extra: str = "") -> list[dict]:
    """One reading of each worker: two requests at once, each worker held busy by one."""
    answers: list[dict] = []

    def ask():
        status, body, _ = request(
            server.port, "GET", f"/bench/memory?label={quote(label)}&hold=1{extra}", timeout=120
        )
        if status == 200:
            answers.append(json.loads(body))

    for _ in range(20):
        answers.clear()
        threads = [threading.Thread(target=ask) for _ in range(2)]
        for thread in threads:
            thread.start()
            time.sleep(0.05)
        for thread in threads:
            thread.join()
        by_pid = {a["pid"]: a for a in answers}
        if len(by_pid) == 2:
            return [by_pid[pid] for pid in sorted(by_pid)]
    raise SystemExit(f"reading {label}: did not reach both workers")


def mb(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def show(label: str, done: int, readings: list[dict], master: str) -> None:
    print(f"\n{label} ({done:,} soak requests; master {master})", flush=True)
    for r in readings:
        s, m, p, g = r["smaps"], r["malloc"], r["pymalloc"], r["gc"]
        private = s["private_clean"] + s["private_dirty"]
        maps = s["mappings"]
        parts = [
            f"  {r['pid']}: PSS {mb(s['pss'])} RSS {mb(s['rss'])} private {mb(private)}"
            f" (dirty {mb(s['private_dirty'])}) shared dirty {mb(s['shared_dirty'])}",
            f"heap {mb(maps.get('heap', {}).get('rss', 0))} anon {mb(maps['anon']['rss'])}"
            f" ({maps['anon']['n']} maps) file {mb(maps['file']['rss'])}",
            f"glibc in use {mb(m['in_use_kb'])} free {mb(m['free_kb'])}"
            f" (top {mb(m['top_releasable_kb'])}) mmapped {mb(m['mmapped_kb'])}"
            f" sqlite {mb(m['sqlite_kb'] or 0)}",
            (
                f"pymalloc {p['arenas']} arenas (high {p['arenas_highwater']})"
                f" in blocks {mb(p['allocated_kb'])} free {mb(p['available_kb'])}"
                if p["arenas"] is not None
                else "pymalloc n/a (tracing)"
            ),
            f"gc {g['objects']:,} objects, {g['allocated_blocks']:,} blocks",
        ]
        if "tracemalloc" in r:
            t = r["tracemalloc"]
            parts.append(f"traced {mb(t['traced_kb'])} (peak {mb(t['peak_kb'])})")
        if "rss_after_trim_kb" in r:
            parts.append(f"RSS after malloc_trim {mb(r['rss_after_trim_kb'])}")
        print(" | ".join(parts), flush=True)
        caches = ", ".join(f"{k} {v}" for k, v in r["caches"].items())
        print(f"      caches: {caches}", flush=True)
        for line in r.get("tracemalloc", {}).get("grown", []):
            print(f"      {line['kb']:+9.1f} kB {line['blocks']:+7d}  {line['line']}", flush=True)
        for line in r.get("tracemalloc", {}).get("shrunk", []):
            print(f"      {line['kb']:+9.1f} kB {line['blocks']:+7d}  {line['line']}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--soak", type=int, default=60_000)
    parser.add_argument("--every", type=int, default=10_000, help="soak requests between readings")
    parser.add_argument("--requests", type=int, default=50, help="per endpoint in the round")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES", help="0: off")
    parser.add_argument("--top", type=int, default=15, help="growth lines per reading")
    parser.add_argument("--out", type=Path, help="write every reading as JSON here")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        parser.error("set DATABASE_URL to a copy of a seeded database")

    env = app_env(url)
    env["SHARED_DEALS_BENCH_MEMORY"] = "1"
    ids = lookups(url)
    log = Path(tempfile.gettempdir()) / f"worker-memory-{os.getpid()}.log"
    server = Server(env, log)
    history = []
    try:

        def reading(label, done, extra=""):
            readings = read_workers(server, label, extra + f"&top={args.top}")
            master = {"pss": server.master_pss_mb(), "uss": uss_mb(server.process.pid)}
            show(label, done, readings, f"PSS {master['pss']} USS {master['uss']} MB")
            history.append({"label": label, "soaked": done, "workers": readings, "master": master})

        session = Session(server.port, EMAIL)
        plan = endpoints(ids)
        state: dict = {}
        drive(session, plan[-2], 20, time.monotonic() + 60, state)
        trace = f"&trace={args.tracemalloc}" if args.tracemalloc else ""
        reading("start", 0, trace)
        for endpoint in plan:
            drive(session, endpoint, 4, time.monotonic() + 60, state)
            drive(session, endpoint, args.requests, time.monotonic() + 120, state)
        varied = varied_endpoints()
        for endpoint in varied:
            drive(session, endpoint, 40, time.monotonic() + 120, state)
        reading("after the rounds", 0)
        soaked, mark, began = 0, args.every, time.monotonic()
        while soaked < args.soak:
            for endpoint in soak_mix(plan, varied):
                lat, _, _ = drive(session, endpoint, SOAK_BATCH, time.monotonic() + 120, state)
                soaked += len(lat)
                if soaked >= mark or soaked >= args.soak:
                    last = soaked >= args.soak
                    reading(f"soak {soaked}", soaked, "&trim=1" if last else "")
                    print(f"  ({time.monotonic() - began:.0f} s of soak)", flush=True)
                    mark += args.every
                if soaked >= args.soak:
                    break
    finally:
        server.stop()
        if args.out:
            args.out.write_text(json.dumps(history, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
