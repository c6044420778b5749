#!/usr/bin/env python3
"""One user's write under hostile load: 20 concurrent hostile clients, gunicorn -w 2.

Makes a database and serves it exactly as bench/run.py does (its Server and
Session), logs in Alice (the normal user, Brightside Agency) and Hana (the
hostile one, Harbor Digital: another account), then:

1. quiet: Alice saves her deal's Company field --writes times, one after the other;
2. busy: --clients threads send Hana's ordinary index request in a loop while
   Alice saves the field --writes times (sync workers queue requests: this is
   what any 20 clients cost her);
3. hostile: the same with Hana's hostile mix (`hostile_mix` below).

Reports Alice's write latency (median, worst) in both phases, every hostile
request's status, the 5xx count and the worst hostile answer time. gunicorn runs
with `--limit-request-line 0` so 8 KB query strings reach the app (gunicorn's
own default, 4094 bytes, answers 400 itself before the app sees the request).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.run import EMAIL, Server, Session, app_env, flask, lookups, request  # noqa: E402
from tests import databases  # noqa: E402

HOSTILE_EMAIL = "hana@harbor.example"
MAX_QUERY_STRING = 8 * 1024  # app.MAX_QUERY_STRING
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _twenty_conditions() -> list[tuple[str, str]]:
    """20 valid filters, the text ones long, matching most deals: each makes the database work."""
    pairs = [("f", f"name:not_contains:{'z' * 150}{i}") for i in range(8)]
    pairs += [("f", f"company:not_contains:{'q' * 150}{i}") for i in range(8)]
    pairs += [
        ("f", "amount:between:0..999999999999"),
        ("f", "close_date:between:1900-01-01..2999-12-31"),
        ("f", "created_at:last_days:36500"),
        ("f", "active_registrations:lt:999999"),
    ]
    return pairs


def _under_limit(pairs: list[tuple[str, str]]) -> str:
    """The query string of `pairs` with a search, sort and page, padded to 8 KB minus 1 byte."""
    query = urlencode([*pairs, ("q", "w" * 200), ("sort", "-amount"), ("page", "40")])
    return f"{query}&pad={'p' * (MAX_QUERY_STRING - 1 - len(query) - len('&pad='))}"


def hostile_mix() -> list[tuple[str, str, str, str | None, dict]]:
    """(name, method, path, body, headers): what a hostile client of another account sends."""
    twenty = _twenty_conditions()
    near_limit = _under_limit(twenty)
    ten_thousand = urlencode([("f", f"name:contains:{i}") for i in range(10_000)])
    htmx = {"HX-Request": "true"}
    return [
        ("20 filters, query string just under 8 KB", "GET", f"/deals?{near_limit}", None, {}),
        ("the same, htmx", "GET", f"/deals?{near_limit}", None, htmx),
        ("query string over 8 KB", "GET", f"/deals?q={'x' * 9000}", None, {}),
        ("10,000 filters in the URL", "GET", f"/deals?{ten_thousand}", None, htmx),
        ("CSV export, 20 filters", "GET", f"/deals/export.csv?{urlencode(twenty)}", None, {}),
        (
            "save view, 20 filters",
            "POST",
            "/deals/views",
            lambda n: urlencode(
                {"name": f"Hostile {n}", "visibility": "account", "query": urlencode(twenty)[:1999]}
            ),
            FORM,
        ),
        (
            "save view, 10,000 filters (300 KB body)",
            "POST",
            "/deals/views",
            lambda n: urlencode(
                {"name": f"Huge {n}", "visibility": "private", "query": ten_thousand}
            ),
            FORM,
        ),
        (
            "save view, 600 KB body",
            "POST",
            "/deals/views",
            lambda n: urlencode({"name": "x", "query": "f" * 600_000}),
            FORM,
        ),
        ("id past 2^63", "GET", "/deals/99999999999999999999", None, {}),
        (
            "dates past the calendar",
            "GET",
            "/deals?f=close_date:before:0001-01-01&f=created_at:after:9999-12-31",
            None,
            htmx,
        ),
    ]


# For contrast: as many clients sending an ordinary request (the index, first page).
ORDINARY_MIX = [("ordinary index page", "GET", "/deals", None, {})]


class Clients:
    """`count` threads sending `mix` in a loop until stopped; every answer recorded."""

    def __init__(self, session: Session, count: int, mix: list):
        self.session, self.count, self.mix = session, count, mix
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[tuple[str, int, float]] = []
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(count)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _run(self, number: int):
        mix, sent = self.mix, 0
        while not self.stop.is_set():
            name, method, path, body, headers = mix[(number + sent) % len(mix)]
            headers = {**self.session.header(), "X-CSRFToken": self.session.csrf, **headers}
            payload = body(f"{number}-{sent}") if callable(body) else body
            started = time.perf_counter()
            try:
                status = request(self.session.port, method, path, headers, payload, 120)[0]
            except OSError as error:  # a connection the server dropped counts against it
                status = f"error: {type(error).__name__}"
            with self.lock:
                self.answers.append((name, status, time.perf_counter() - started))
            sent += 1


def timed_writes(session: Session, deal_id: int, count: int, state: dict) -> list[float]:
    """Alice saves her deal's Company `count` times; the latency (s) of each. All must work."""
    latencies = []
    for _ in range(count):
        new = f"Normal write {state['n']}"
        # The first write does not say what it saw (no conflict check); later ones do.
        form = {"company": new} | (
            {} if state["company"] is None else {"original": state["company"]}
        )
        body = urlencode(form)
        headers = {**session.header(), "X-CSRFToken": session.csrf, **FORM}
        started = time.perf_counter()
        status = request(session.port, "POST", f"/deals/{deal_id}/fields/company", headers, body)[0]
        latencies.append(time.perf_counter() - started)
        if status != 303:
            raise SystemExit(f"the normal write answered {status}")
        state["company"], state["n"] = new, state["n"] + 1
    return latencies


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=10_000, help="deals per partner")
    parser.add_argument("--clients", type=int, default=20, help="concurrent hostile clients")
    parser.add_argument("--writes", type=int, default=20, help="normal writes per phase")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (else SQLite)")
    args = parser.parse_args(argv)
    import os

    server_url = args.database_url or os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="shared-deals-hostile-") as tmp:
        url = databases.create(server_url, Path(tmp))
        env = app_env(url)
        server = None
        try:
            flask(env, "db", "upgrade")
            flask(env, "seed-demo", "--deals", str(args.deals))
            deal_id = lookups(url)["deal"]
            log = Path(tmp) / "gunicorn.log"
            server = Server(env, log, extra_args=("--limit-request-line", "0"))
            alice = Session(server.port, EMAIL)
            hana = Session(server.port, HOSTILE_EMAIL)
            state = {"company": None, "n": 0}
            timed_writes(alice, deal_id, 3, state)  # warm both workers up
            quiet = timed_writes(alice, deal_id, args.writes, state)
            with Clients(hana, args.clients, ORDINARY_MIX) as ordinary:
                time.sleep(1)  # every client has a request in flight
                busy = timed_writes(alice, deal_id, args.writes, state)
            with Clients(hana, args.clients, hostile_mix()) as hostile:
                time.sleep(1)
                loaded = timed_writes(alice, deal_id, args.writes, state)
            log_text = log.read_text()
        finally:
            if server:
                server.stop()
            databases.drop(url)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(report(backend, args, quiet, busy, ordinary.answers, loaded, hostile.answers))
    if "Traceback" in log_text:
        print("\ngunicorn logged a traceback:\n" + log_text[-3000:])
    return 0


def report(backend, args, quiet, busy, ordinary, loaded, answers) -> str:
    def ms(seconds):
        return f"{seconds * 1000:.0f} ms"

    statuses = Counter(status for _, status, _ in answers)
    errors = sum(n for s, n in statuses.items() if not isinstance(s, int) or s >= 500)
    worst = max(answers, key=lambda a: a[2])
    lines = [
        f"## {backend}, {args.deals:,} deals per partner, gunicorn -w 2, "
        f"{args.clients} hostile clients",
        "",
        "| Alice's write (POST company) | median | worst |",
        "|---|---:|---:|",
        f"| quiet, {len(quiet)} writes | {ms(statistics.median(quiet))} | {ms(max(quiet))} |",
        f"| {args.clients} ordinary clients (GET /deals), {len(busy)} writes "
        f"| {ms(statistics.median(busy))} | {ms(max(busy))} |",
        f"| {args.clients} hostile clients, {len(loaded)} writes | {ms(statistics.median(loaded))} "
        f"| {ms(max(loaded))} |",
        "",
        f"ordinary requests answered: {len(ordinary)}, worst {ms(max(a[2] for a in ordinary))}",
        "",
        f"hostile requests answered: {len(answers)}; statuses: "
        + ", ".join(f"{s}×{n}" for s, n in sorted(statuses.items(), key=str))
        + f"; 5xx or dropped: {errors}",
        f"worst hostile answer: {ms(worst[2])} ({worst[0]}, {worst[1]})",
        "",
        "| hostile request | n | statuses | median | worst |",
        "|---|---:|---|---:|---:|",
    ]
    for name in dict.fromkeys(a[0] for a in answers):
        mine = [a for a in answers if a[0] == name]
        times = [a[2] for a in mine]
        codes = Counter(a[1] for a in mine)
        lines.append(
            f"| {name} | {len(mine)} | "
            + ", ".join(f"{s}×{n}" for s, n in sorted(codes.items(), key=str))
            + f" | {ms(statistics.median(times))} | {ms(max(times))} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
