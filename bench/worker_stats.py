"""`/bench/memory`: the memory of the gunicorn worker that answers, for bench/worker_memory.py.

Registered by `bench.server:create_app()` only when `SHARED_DEALS_BENCH_MEMORY=1` (off by
default; the real app never has it). Login-free, like the floors, and only ever served
on 127.0.0.1 by the bench.

`GET /bench/memory?label=L` answers, as JSON, for the process that serves it:

- `smaps`: RSS, PSS, private/shared clean/dirty, anonymous (kB, /proc/self/smaps_rollup),
  and `mappings`: RSS and private dirty of the brk heap (glibc's main arena), of the
  anonymous mappings (pymalloc's 1 MiB arenas, glibc's large blocks and thread arenas)
  and of the files (code, libraries, the database's pages);
- `malloc`: glibc's mallinfo2 (bytes in use and free in its arenas, mmapped blocks),
  and SQLite's own share of it (`sqlite3_memory_used`: page caches, statements);
- `pymalloc`: arenas and bytes in allocated blocks (`sys._debugmallocstats`);
- `gc`: objects tracked, counts, frozen objects, `sys.getallocatedblocks()`;
- `caches`: the size of every bounded cache a request fills (the app's functools
  caches and LRU dicts, SQLAlchemy's compiled cache, Jinja's template cache, Babel's
  locale data, `re`'s cache) and the connection pool;
- with `trace=N`: tracemalloc is started with N frames (once; tracing begins then), and
  each reading returns the traced heap and the lines whose traced size grew most since
  the previous label's reading (`top`, default 15);
- with `trim=1`: `malloc_trim(0)` after the reading, and the RSS it gave back.

`gc.collect()` runs first (`collect=0` skips it). `hold=S` keeps the worker busy S
seconds after answering, so that two requests sent together reach both workers. A
label asked twice of the same worker answers the first reading again.
"""

from __future__ import annotations

import ctypes
import gc
import os
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request

from blueprints.access import public

bp = Blueprint("bench_memory", __name__, url_prefix="/bench")

_libc = ctypes.CDLL("libc.so.6")
_readings: dict[str, dict] = {}  # label -> the reading returned
_lines: dict | None = None  # the traced size per line at the last reading


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


_libc.mallinfo2.restype = _MallInfo2
try:  # SQLite's own heap (page caches, prepared statements), through glibc's malloc
    import _sqlite3

    _sqlite = ctypes.CDLL(_sqlite3.__file__)
    _sqlite.sqlite3_memory_used.restype = ctypes.c_int64
except (ImportError, OSError, AttributeError):
    _sqlite = None


def smaps() -> dict:
    """smaps_rollup in kB, and RSS / private dirty by kind of mapping."""
    rollup = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        rollup[key] = int(value.split()[0])
    kinds: dict[str, dict] = {}
    kind = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split(None, 6)
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            path = first[5] if len(first) > 5 else ""
            kind = "heap" if path == "[heap]" else "anon" if not path else "other"
            kind = "file" if path.startswith("/") else kind
            kinds.setdefault(kind, {"rss": 0, "private_dirty": 0, "n": 0})["n"] += 1
        elif first[0] in ("Rss:", "Private_Dirty:"):
            kinds[kind][first[0][:-1].lower()] += int(first[1])
    keep = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Shared_Clean", "Shared_Dirty")
    return {**{k.lower(): rollup[k] for k in (*keep, "Anonymous")}, "mappings": kinds}


def malloc() -> dict:
    info = _libc.mallinfo2()
    kib = {name: getattr(info, name) // 1024 for name, _ in _MallInfo2._fields_}
    return {
        "arena_kb": kib["arena"],  # obtained with brk/sbrk (main arena) + thread arenas
        "in_use_kb": kib["uordblks"],
        "free_kb": kib["fordblks"],
        "top_releasable_kb": kib["keepcost"],
        "mmapped_kb": kib["hblkhd"],
        "free_chunks": info.ordblks,
        "sqlite_kb": _sqlite.sqlite3_memory_used() // 1024 if _sqlite else None,
    }


def pymalloc() -> dict:
    """pymalloc's arenas, from `sys._debugmallocstats()` (it writes to C's stderr).

    None while tracemalloc traces: its hooks replace pymalloc's, and the stats are empty.
    """
    with tempfile.TemporaryFile(mode="w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()

    def number(label):
        found = re.search(rf"^# {label}\s*=\s*([\d,]+)", text, re.M)
        return int(found.group(1).replace(",", "")) if found else None

    return {
        "arenas": number("arenas allocated current"),
        "arenas_highwater": number("arenas highwater mark"),
        "allocated_kb": (number("bytes in allocated blocks") or 0) // 1024,
        "available_kb": (number("bytes in available blocks") or 0) // 1024,
    }


def caches() -> dict:
    from bench.memory_soak import functools_caches
    from extensions import db
    from services import search
    from services.deal_index import query

    sizes = {}
    for name, function in functools_caches().items():
        info = function.cache_info()
        sizes[name.rsplit(".", 1)[-1]] = info.currsize
    sizes["statements"] = len(query._statements)
    sizes["search_routes"] = len(search._common)
    engine = db.engine
    sizes["sa_compiled"] = len(engine._compiled_cache)
    sizes["jinja_templates"] = len(current_app.jinja_env.cache or ())
    sizes["re"] = len(re._cache)
    try:
        from babel import localedata

        sizes["babel_locales"] = len(localedata._cache)
    except (ImportError, AttributeError):
        pass
    sizes["modules"] = len(sys.modules)
    sizes["pool"] = engine.pool.status()
    return sizes


def traced(top: int) -> dict:
    """The traced heap, and the lines that grew most since the last reading (kB, blocks)."""
    global _lines
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    )
    lines = {}
    for stat in snapshot.statistics("lineno"):
        frame = stat.traceback[0]
        where = frame.filename.split("site-packages/")[-1].replace(os.getcwd() + "/", "")
        lines[f"{where}:{frame.lineno}"] = (stat.size, stat.count)
    del snapshot
    grown = []
    if _lines is not None:
        for where in lines.keys() | _lines.keys():
            size, count = lines.get(where, (0, 0))
            before_size, before_count = _lines.get(where, (0, 0))
            grown.append((size - before_size, count - before_count, where))
        grown.sort(reverse=True)
    _lines = lines
    current, peak = tracemalloc.get_traced_memory()
    return {
        "traced_kb": current // 1024,
        "peak_kb": peak // 1024,
        "overhead_kb": tracemalloc.get_tracemalloc_memory() // 1024,
        "grown": [
            {"kb": round(size / 1024, 1), "blocks": count, "line": where}
            for size, count, where in grown[:top]
        ],
        "shrunk": [
            {"kb": round(size / 1024, 1), "blocks": count, "line": where}
            for size, count, where in sorted(grown)[:3]
            if size < 0
        ],
    }


@bp.get("/memory")
@public
def memory():
    label = request.args.get("label", "")
    if label and label in _readings:
        reading = _readings[label]
    else:
        if request.args.get("collect", "1") != "0":
            gc.collect()
        frames = request.args.get("trace", 0, type=int)
        if frames and not tracemalloc.is_tracing():
            tracemalloc.start(frames)
        reading = {
            "pid": os.getpid(),
            "label": label,
            "smaps": smaps(),
            "malloc": malloc(),
            "pymalloc": pymalloc(),
            "gc": {
                "objects": len(gc.get_objects()),
                "counts": gc.get_count(),
                "frozen": gc.get_freeze_count(),
                "allocated_blocks": sys.getallocatedblocks(),
            },
            "caches": caches(),
        }
        if tracemalloc.is_tracing():
            reading["tracemalloc"] = traced(request.args.get("top", 15, type=int))
        if request.args.get("trim") == "1":
            _libc.malloc_trim(0)
            reading["rss_after_trim_kb"] = smaps()["rss"]
        if label:
            _readings[label] = reading
    time.sleep(min(request.args.get("hold", 0.0, type=float), 5.0))
    return jsonify(reading)
