#!/usr/bin/env python3
"""Benchmark the deals index under gunicorn; see bench/README.md.

For each size: make a temporary database (SQLite, or a new database on the
PostgreSQL server of DATABASE_URL), migrate it, `flask seed-demo --deals N`,
serve it with `gunicorn -w 2 'bench.server:create_app()'` (the app plus the two
floors) on a free port of 127.0.0.1, log in as Alice and send a fixed number of
requests per endpoint over 2 connections, in rounds. Then send --soak more
requests (the mix, and index views with a new value each time) and read the
workers' memory (PSS) again: flat or growing.
Every request goes to 127.0.0.1 only; counts and time are bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import REFUSED  # noqa: E402
from tests import databases  # noqa: E402 - the same scratch databases the tests use

EMAIL = "alice@brightside.example"
PASSWORD = "shared-deals-demo"  # noqa: S105 - the documented demo login
CONNECTIONS = 2  # = gunicorn workers
HOST = "127.0.0.1"
SEARCH_TERM = "#98765"  # a deal number: 1 match at 100,000 deals, 11 at 1,000,000
COMMON_TERM = "relaunch"  # in 1 deal name of 16: shown, but not one of the issue's targets


def app_env(url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_hex(32),
        SHARED_DEALS_AUTO_SETUP="0",
        PYTHONPATH=str(ROOT),
    )
    return env


def flask(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def lookups(url: str) -> dict:
    """Ids the endpoints need, read straight from the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as c:

        def one(sql, **params):
            return c.execute(sa.text(sql), params).scalar()

        account = one("SELECT id FROM accounts WHERE name = 'Brightside Agency'")
        # One shared deal per connection for the card's saves (team, product interest,
        # note), as the amount save and the move have: two people seldom save the same
        # deal at the same moment, and on PostgreSQL the second would wait for the
        # first's answer (its lock is held until then: services/changes.py).
        team_deals = c.execute(
            sa.text(
                "SELECT id, partner_deal_id FROM shared_deals WHERE partner_account_id = :a "
                "ORDER BY id DESC LIMIT :n"
            ),
            {"a": account, "n": CONNECTIONS},
        ).all()
        values = {
            "deal": one(
                "SELECT id FROM deals WHERE account_id = :a AND name = :n",
                a=account,
                n="Acme Corp website relaunch",
            ),
            "stage": one(
                "SELECT s.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id "
                "WHERE p.account_id = :a ORDER BY p.position, s.position LIMIT 1 OFFSET 1",
                a=account,
            ),
            "team_deals": [deal for _, deal in team_deals],
            # The board: its first pipeline's stages, and one deal of it per connection to move.
            "board_stages": list(
                c.execute(
                    sa.text(
                        "SELECT s.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id "
                        "WHERE p.account_id = :a AND p.position = "
                        "(SELECT min(position) FROM pipelines WHERE account_id = :a) "
                        "ORDER BY s.position"
                    ),
                    {"a": account},
                ).scalars()
            ),
            "teams": [
                sorted(
                    c.execute(
                        sa.text("SELECT user_id FROM deal_team_members WHERE shared_deal_id = :s"),
                        {"s": shared},
                    ).scalars()
                )
                for shared, _ in team_deals
            ],
            "togglers": list(
                c.execute(
                    sa.text(
                        "SELECT id FROM users WHERE email IN "
                        "('bob@brightside.example', 'carol@brightside.example') ORDER BY email"
                    )
                ).scalars()
            ),
        }
        values.update(save_lookups(c, account, values["team_deals"]))
        values["board_deals"] = list(
            c.execute(
                sa.text(
                    "SELECT id FROM deals WHERE account_id = :a AND stage_id = :s "
                    "AND id NOT IN :t ORDER BY id LIMIT 2"
                ).bindparams(sa.bindparam("t", expanding=True)),
                {"a": account, "s": values["board_stages"][0], "t": values["team_deals"]},
            ).scalars()
        )
        values["request_deals"] = request_lookups(c, account, values)
    engine.dispose()
    values["open_requests"] = lambda: open_requests(url, values["request_deals"])
    return values


REQUEST_DEALS = 2000  # more than the rounds and the soak send: a request per deal


def request_lookups(c, account: int, values: dict) -> list[int]:
    """Partner deals for "registration request", one per request: shared, neither registered
    nor requested, oldest first (the saves take the newest), not the deal page's, the team
    save's or the board move's."""
    import sqlalchemy as sa

    used = {values["deal"], *values["team_deals"], *values["board_deals"]}
    rows = c.execute(
        sa.text(
            "SELECT d.id FROM shared_deals s JOIN deals d ON d.id = s.partner_deal_id "
            "WHERE s.partner_account_id = :a AND d.registered_until IS NULL "
            "AND d.open_request_since IS NULL ORDER BY s.id LIMIT :n"
        ),
        {"a": account, "n": REQUEST_DEALS + len(used)},
    ).scalars()
    return [deal for deal in rows if deal not in used][:REQUEST_DEALS]


def open_requests(url: str, deals: list[int]) -> list[tuple[int, int]]:
    """(vendor deal, request id) of the open requests on these partner deals, oldest first:
    what "decline a request" takes, so that the deals are free to request again."""
    import sqlalchemy as sa

    if not deals:
        return []
    engine = sa.create_engine(url)
    with engine.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT s.vendor_deal_id, r.id FROM registration_requests r "
                "JOIN shared_deals s ON s.id = r.shared_deal_id "
                "WHERE r.status = 'requested' AND s.partner_deal_id IN :deals ORDER BY r.id"
            ).bindparams(sa.bindparam("deals", expanding=True)),
            {"deals": deals},
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def pss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    kib = int(re.search(r"^Pss:\s+(\d+) kB", text, re.M).group(1))
    return round(kib / 1024, 1)


def uss_mb(pid: int) -> float:
    """Private memory (USS): the pages only this process maps. Unlike PSS, it does not move
    when another process copies a page they shared (a worker's PSS rises when the other
    worker copies a page the three processes shared)."""
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    kib = sum(int(k) for k in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+) kB", text, re.M))
    return round(kib / 1024, 1)


class Server:
    def __init__(
        self, env: dict, log_path: Path, extra_args: tuple[str, ...] = (), root: Path = ROOT
    ):
        """gunicorn serving the app of `root` (this checkout unless told: bench/ab.py serves
        two), with `env`'s database."""
        self.port = free_port()
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(CONNECTIONS),
                "-b",
                f"{HOST}:{self.port}",
                *extra_args,
                "bench.server:create_app()",
            ],
            cwd=root,
            env={**env, "PYTHONPATH": str(root)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log_path}")
            try:
                if request(self.port, "GET", "/bench/hello")[0] == 200 and len(self.workers()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer in 60 s; see {log_path}")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def pss_mb(self) -> list[float]:
        return [pss_mb(pid) for pid in self.workers()]

    def uss_mb(self) -> list[float]:
        return [uss_mb(pid) for pid in self.workers()]

    def master_pss_mb(self) -> float:
        """The master's share: with the app preloaded (gunicorn.conf.py) it holds the pages
        the workers share, and each process's PSS counts a third of those."""
        return pss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# ---------------------------------------------------------------- the client


def request(port, method, path, headers=None, body=None, timeout=30.0):
    """One request on a fresh connection (gunicorn's sync workers close each one)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, data, response.getheaders()
    finally:
        connection.close()


class Session:
    """A demo user (Alice unless told), logged in: a cookie and a CSRF token."""

    def __init__(self, port: int, email: str = EMAIL):
        self.port = port
        self.cookies: dict[str, str] = {}
        status, body, headers = self.get("/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
        form = urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
        status, body, headers = self.send(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 303:
            raise SystemExit(f"login failed: {status}")
        status, body, headers = self.get("/deals")
        match = re.search(rb'"X-CSRFToken": "([^"]+)"', body)
        self.csrf = match.group(1).decode() if match else ""

    def header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def send(self, method, path, body=None, headers=None):
        status, data, response_headers = request(
            self.port, method, path, {**self.header(), **(headers or {})}, body
        )
        for name, value in response_headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return status, data, response_headers

    def get(self, path):
        return self.send("GET", path)

    def transport(self, method, path, headers, body):
        """One request as is: (status, body, headers); the in-process soak answers in-process."""
        return request(self.port, method, path, headers, body)

    def as_user(self, email: str) -> Session:
        """Another demo user's session on the same server."""
        return Session(self.port, email)


class Endpoint:
    def __init__(self, name, path, htmx=False, method="GET", body=None, login=True, toggles=True):
        self.name, self.path, self.htmx, self.method = name, path, htmx, method
        self.body, self.login = body, login
        self.toggles = toggles  # a successful POST flips the connection's state (team save)
        self.answered = None  # called with (status, body) after each request
        self.ready = lambda: True  # False: nothing to send yet (a deregistration before an add)

    def call(self, session: Session, worker: int, state: dict):
        headers = session.header() if self.login else {}
        if self.htmx:
            headers["HX-Request"] = "true"
        body = None
        if self.method == "POST":
            headers["X-CSRFToken"] = session.csrf
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = self.body(worker, state)
        path = self.path(worker) if callable(self.path) else self.path
        started = time.perf_counter()
        status, data, _ = session.transport(self.method, path, headers, body)
        elapsed = (time.perf_counter() - started) * 1000
        if self.method == "POST" and status == 200 and REFUSED in data:
            status = "200 refused"  # shown in the table's status column
        if self.method == "POST" and self.toggles and status in (200, 303):
            state[worker] = not state.get(worker, False)
        if self.answered:
            self.answered(status, data)
        return status, len(data), elapsed


def endpoints(ids: dict) -> list[Endpoint]:
    def index(query):
        return "/deals" + ("?" + urlencode(query) if query else "")

    pages = [
        ("index", index({})),
        ("registered deals", index({"f": "active_registrations:gt:0"})),
        ("text filter (name contains)", index({"f": "name:contains:relaunch"})),
        ("number filter (amount >)", index({"f": "amount:gt:900000"})),
        ("date filter (close next 30 d)", index({"f": "close_date:next_days:30"})),
        ("choice filter (stage any of)", index({"f": f"stage:any_of:{ids['stage']}"})),
        (f"free text ({SEARCH_TERM})", index({"q": SEARCH_TERM})),
        (f"common word ({COMMON_TERM})", index({"q": COMMON_TERM})),
        ("sort by amount", index({"sort": "-amount"})),
        ("deep page (page 400)", index({"page": "400"})),
    ]
    board_stage = ids["board_stages"][1]
    pages += [
        ("board", index({"layout": "board"})),
        ("board, my deals", index({"f": "owner:is_me:", "layout": "board"})),
        (
            "board, amount > and sorted",
            index({"f": "amount:gt:500000", "sort": "-amount", "layout": "board"}),
        ),
    ]
    result = []
    for name, path in pages:
        result.append(Endpoint(f"{name} — page", path))
        result.append(Endpoint(f"{name} — fragment", path, htmx=True))

    def team_body(worker, state):
        # Each connection adds, then removes, a user (Bob or Carol) on its own shared deal.
        user = ids["togglers"][worker % len(ids["togglers"])]
        team = ids["teams"][worker % len(ids["teams"])]
        base = [u for u in team if u not in ids["togglers"]]
        with_user = base + [user]
        has = state.get(worker, False)
        members, original = (base, with_user) if has else (with_user, base)
        return urlencode(
            [("members", m) for m in members] + [("original_members", m) for m in original]
        )

    more = urlencode({"layout": "board", "stage": board_stage, "offset": 20})
    result.append(Endpoint("board show more — fragment", f"/deals/board/more?{more}", htmx=True))

    moves = Counter()

    def move_body(worker, state):
        # Each connection moves its own deal between the board's first two stages; no
        # `original`, so the bench measures the write, not conflicts between rounds.
        moves[worker] += 1
        stage = ids["board_stages"][moves[worker] % 2]
        return urlencode({"stage": stage, "query": "layout=board"})

    result.append(
        Endpoint(
            "board move (POST, htmx)",
            lambda worker: f"/deals/{ids['board_deals'][worker % 2]}/move",
            htmx=True,
            method="POST",
            body=move_body,
            toggles=False,
        )
    )
    result.append(Endpoint("deal page", f"/deals/{ids['deal']}"))
    result.append(
        Endpoint(
            "team save (POST, htmx)",
            lambda worker: f"/deals/{card_deal(ids, worker)}/team",
            htmx=True,
            method="POST",
            body=team_body,
        )
    )
    result += save_endpoints(ids)
    result.append(Endpoint("floor 1: /hello", "/bench/hello", login=False))
    result.append(
        Endpoint("floor 2: 1 row + template", f"/bench/row?id={ids['deal']}", login=False)
    )
    return result


# ---------------------------------------------------------------- the deal page's saves


def card_deal(ids: dict, worker: int) -> int:
    """The partner deal whose card the connection `worker` saves (team, products, note)."""
    return ids["team_deals"][worker % len(ids["team_deals"])]


def save_lookups(c, account: int, team_deals: list[int]) -> dict:
    """Ids the saves need: the vendor's products, and generated shared deals of their own."""
    import sqlalchemy as sa

    rows = c.execute(
        sa.text(
            "SELECT partner_deal_id, vendor_deal_id FROM shared_deals "
            "WHERE partner_account_id = :a AND partner_deal_id NOT IN :t "
            "ORDER BY id DESC LIMIT 200"
        ).bindparams(sa.bindparam("t", expanding=True)),
        {"a": account, "t": team_deals},
    ).all()
    products = c.execute(
        sa.text(
            "SELECT p.id FROM products p JOIN accounts a ON a.id = p.vendor_account_id "
            "WHERE a.kind = 'vendor' ORDER BY p.position, p.id LIMIT 2"
        )
    ).scalars()
    return {"save_deals": [tuple(r) for r in rows], "products": list(products)}


class AsUser(Endpoint):
    """An endpoint driven as another demo user (the vendor's rep for registrations)."""

    def __init__(self, email: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.email, self.session = email, None

    def call(self, session: Session, worker: int, state: dict):
        if self.session is None:
            self.session = session.as_user(self.email)
        return super().call(self.session, worker, state)


def save_endpoints(ids: dict) -> list[Endpoint]:
    """A field, product interest, a note, a registration request, registration add and
    deregister: each an htmx POST.

    Each connection flips its own value (amount, product, note text) on its own deal, so
    the two run at once and every request is a real change with its history row; no
    `original`, so what is measured is the write, not conflicts between rounds.
    """
    deals = ids["save_deals"]

    def amount_body(worker, state):
        return urlencode({"amount": "1500" if state.get(worker) else "2500"})

    def products_body(worker, state):
        product = ids["products"][worker % len(ids["products"])]
        mine = [("products", product)]
        chosen, showed = ([], mine) if state.get(worker) else (mine, [])
        return urlencode([*chosen, ("original_products", ""), *showed])

    def note_body(worker, state):
        return urlencode({"text": f"Call back, connection {worker}, {bool(state.get(worker))}"})

    # Registrations: each add on the next generated shared deal (one or two rows on its
    # card, as in life); each deregistration takes back one registration an add made.
    added, taken = Counter(), []
    lock = threading.Lock()

    def add_path(worker):
        with lock:
            added["n"] += 1
            return f"/deals/{deals[added['n'] % len(deals)][1]}/registrations"

    def remember(status, data):
        found = re.findall(rb"/deals/(\d+)/registrations/(\d+)/deregistration", data)
        if status == 200 and found:
            with lock:
                taken.append(max(found, key=lambda f: int(f[1])))

    def deregister_path(worker):
        with lock:
            deal, registration = taken.pop() if taken else (b"0", b"0")
        return f"/deals/{deal.decode()}/registrations/{registration.decode()}/deregistration"

    def as_vendor_rep(name, path):
        # Registrations are the vendor's to add and remove: Rita posts them, with no fields.
        return AsUser(
            VENDOR_EMAIL,
            name,
            path,
            htmx=True,
            method="POST",
            body=lambda worker, state: "",
            toggles=False,
        )

    # Each request asks on the next of request_lookups' deals, and Rita declines the open
    # ones after them, so the deals are free to request again in the next round. A small
    # database may have none: 404.
    requested, free = Counter(), ids["request_deals"] or [0]

    def request_path(worker):
        with lock:
            requested["n"] += 1
            deal = free[requested["n"] % len(free)]
        return f"/deals/{deal}/registration-requests"

    request = Endpoint(
        "registration request (POST, htmx)",
        request_path,
        htmx=True,
        method="POST",
        body=lambda worker, state: urlencode({"message": "Please register this one."}),
        toggles=False,
    )
    request.ready = lambda: bool(ids["request_deals"])
    answered, declines, declined, last = Counter(), [], set(), [(0, 0)]

    def count_answered(status, data):
        if status == 200:  # a request made ("200 refused": none was)
            with lock:
                answered["n"] += 1

    request.answered = count_answered

    def decline_path(worker):
        # Read (untimed: the path is the client's) when the queue is empty; a request
        # already taken is skipped, so two connections never decline the same one. With
        # none open (another connection took the last), the last one declined again: its
        # answer is "already decided" (200), not a 404 for a request that does not exist.
        with lock:
            if not declines:
                declines.extend(r for r in ids["open_requests"]() if r[1] not in declined)
            if declines:
                last[0] = declines.pop(0)
                declined.add(last[0][1])
            deal, request_id = last[0]
        return f"/deals/{deal}/registration-requests/{request_id}/decline"

    decline = decline_endpoint(decline_path, as_user=VENDOR_EMAIL)
    # Ready once a request has been answered (committed), not merely sent.
    decline.ready = lambda: bool(declines) or answered["n"] > len(declined)
    add = as_vendor_rep("registration add (POST, htmx)", add_path)
    add.answered = remember
    deregister = as_vendor_rep("registration deregister (POST, htmx)", deregister_path)
    deregister.ready = lambda: bool(taken)
    return [
        Endpoint(
            "field save: amount (POST, htmx)",
            lambda worker: f"/deals/{deals[worker % len(deals)][0]}/fields/amount",
            htmx=True,
            method="POST",
            body=amount_body,
        ),
        Endpoint(
            "product interest save (POST, htmx)",
            lambda worker: f"/deals/{card_deal(ids, worker)}/products",
            htmx=True,
            method="POST",
            body=products_body,
        ),
        Endpoint(
            "note save (POST, htmx)",
            lambda worker: f"/deals/{card_deal(ids, worker)}/notes/next_steps",
            htmx=True,
            method="POST",
            body=note_body,
        ),
        request,
        decline,
        add,
        deregister,
    ]


def varied_endpoints() -> list[Endpoint]:
    """Index views whose value changes with every request (the soak's): an amount, a word."""
    rng = random.Random()

    def index(make):
        return lambda worker: "/deals?" + urlencode(make())

    return [
        Endpoint("varied amount filter", index(lambda: {"f": f"amount:gt:{rng.randrange(10**6)}"})),
        Endpoint("varied search", index(lambda: {"q": f"w{rng.randrange(10**6)}"}), htmx=True),
        Endpoint(
            "varied board",
            index(lambda: {"f": f"amount:lt:{rng.randrange(10**6)}", "layout": "board"}),
            htmx=True,
        ),
    ]


SOAK_BATCH = 20  # requests of one endpoint in a row during the soak


def soak_mix(plan: list[Endpoint], varied: list[Endpoint]) -> list[Endpoint]:
    """One turn of the soak: every endpoint of the plan, then the varied index views,
    SOAK_BATCH requests each; turns repeat until the soak's count."""
    return [*plan, *varied]


def pss_growth(pss: dict, soaked: int) -> str:
    """PSS over the soak, per worker: flat (≤ 2 MB) or the growth per 10,000 requests."""
    if not soaked:
        return "no soak (--soak 0): flatness not measured"
    pairs = zip(pss["after_rounds"], pss["end"], strict=True)
    growth = [round(end - before, 1) for before, end in pairs]
    worst = max(growth)
    verdict = "flat" if worst <= 2 else f"GROWING, {worst / soaked * 10_000:.1f} MB per 10,000"
    return f"{verdict}: {growth} MB per worker over {soaked:,} requests after the rounds"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def drive(session: Session, endpoint: Endpoint, count: int, deadline: float, state: dict):
    """`count` requests over CONNECTIONS connections; (latencies, sizes, statuses)."""
    latencies, sizes, statuses = [], [], Counter()
    lock = threading.Lock()
    remaining = [count]

    def worker(number):
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            status, size, elapsed = endpoint.call(session, number, state)
            with lock:
                latencies.append(elapsed)
                sizes.append(size)
                statuses[status] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, sizes, statuses


# ---------------------------------------------------------------- the vendor's side (issue 12)

VENDOR_EMAIL = "rita@northwind.example"
VENDOR_DECLINE_REASON = "Another partner registered this customer first."


def vendor_lookups(url: str) -> dict:
    """Ids the vendor's endpoints need, read from a `seed-demo --partners` database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as c:

        def rows(sql, **params):
            return [tuple(r) for r in c.execute(sa.text(sql), params)]

        def one(sql, **params):
            return c.execute(sa.text(sql), params).scalar()

        vendor = one("SELECT id FROM accounts WHERE name = 'Northwind Cloud'")
        rita = one("SELECT id FROM users WHERE email = :e", e=VENDOR_EMAIL)
        victor = one("SELECT id FROM users WHERE email = 'victor@northwind.example'")
        # The generated partners are named "Partner 0001" ... (services/vendor_seed.py).
        partner = one("SELECT min(id) FROM accounts WHERE name LIKE 'Partner %'")
        # A vendor deal with history: approved request, active registration, product interest.
        deal = one(
            "SELECT s.vendor_deal_id FROM registration_requests r "
            "JOIN shared_deals s ON s.id = r.shared_deal_id "
            "WHERE r.status = 'approved' AND s.partner_account_id >= :p ORDER BY r.id LIMIT 1",
            p=partner,
        )
        # One shared deal per connection with Rita (not Victor) on its team: Rita adds and
        # removes Victor. No open request on them: the declines do not touch them.
        team_deals = rows(
            "SELECT s.vendor_deal_id, s.id FROM shared_deals s "
            "JOIN deals d ON d.id = s.vendor_deal_id "
            "WHERE s.partner_account_id >= :p AND d.owner_id = :r "
            "AND NOT EXISTS (SELECT 1 FROM registration_requests q WHERE q.shared_deal_id = s.id) "
            "ORDER BY s.id LIMIT :n",
            p=partner,
            r=rita,
            n=CONNECTIONS,
        )
        teams = [
            sorted(
                c.execute(
                    sa.text("SELECT user_id FROM deal_team_members WHERE shared_deal_id = :s"),
                    {"s": shared},
                ).scalars()
            )
            for _, shared in team_deals
        ]
        # Every open request, oldest first: each decline takes the next one.
        open_requests = rows(
            "SELECT s.vendor_deal_id, r.id FROM registration_requests r "
            "JOIN shared_deals s ON s.id = r.shared_deal_id "
            "WHERE r.status = 'requested' AND s.vendor_account_id = :v ORDER BY r.id",
            v=vendor,
        )
    engine.dispose()
    return {
        "deal": deal,
        "partner": partner,
        "victor": victor,
        "team_deals": [vendor_deal for vendor_deal, _ in team_deals],
        "teams": teams,
        "open_requests": open_requests,
    }


def decline_endpoint(path, as_user: str | None = None) -> Endpoint:
    """ "decline a request" (POST, htmx) of the request `path(worker)` names, with a reason;
    as `as_user` (another session) when given, else as the session driving it."""
    name, options = (
        "decline a request (POST, htmx)",
        {
            "htmx": True,
            "method": "POST",
            "body": lambda worker, state: urlencode({"reason": VENDOR_DECLINE_REASON}),
            "toggles": False,
        },
    )
    return AsUser(as_user, name, path, **options) if as_user else Endpoint(name, path, **options)


def vendor_endpoints(ids: dict) -> list[Endpoint]:
    """Rita's index views, a vendor deal page, her saves, and the two floors."""

    def index(query):
        return "/deals" + ("?" + urlencode(query) if query else "")

    pages = [
        ("vendor index", index({})),
        ("registered deals", index({"view": "registered", "f": "active_registrations:gt:0"})),
        ("registration requests", index({"view": "requests", "f": "open_requests:gt:0"})),
        ("filter by partner", index({"f": f"shared_with:any_of:{ids['partner']}"})),
    ]
    result = []
    for name, path in pages:
        result.append(Endpoint(f"{name} — page", path))
        result.append(Endpoint(f"{name} — fragment", path, htmx=True))
    result.append(Endpoint("vendor deal page", f"/deals/{ids['deal']}"))

    def team_body(worker, state):
        # Rita adds, then removes, Victor on this connection's own shared deal.
        base = ids["teams"][worker % len(ids["teams"])]
        with_victor = sorted([*base, ids["victor"]])
        members, original = (base, with_victor) if state.get(worker) else (with_victor, base)
        return urlencode(
            [("members", m) for m in members] + [("original_members", m) for m in original]
        )

    result.append(
        Endpoint(
            "vendor team save (POST, htmx)",
            lambda worker: f"/deals/{ids['team_deals'][worker % len(ids['team_deals'])]}/team",
            htmx=True,
            method="POST",
            body=team_body,
        )
    )
    # Each decline takes the next open request; past the last one the answers are
    # refusals ("already decided"), shown as "200 refused" in the status column.
    taken = [0]
    lock = threading.Lock()

    def decline_path(worker):
        with lock:
            deal_id, request_id = ids["open_requests"][taken[0] % len(ids["open_requests"])]
            taken[0] += 1
        return f"/deals/{deal_id}/registration-requests/{request_id}/decline"

    result.append(decline_endpoint(decline_path))
    result.append(Endpoint("floor 1: /hello", "/bench/hello", login=False))
    result.append(
        Endpoint("floor 2: 1 row + template", f"/bench/row?id={ids['deal']}", login=False)
    )
    return result


def vendor_targets(result: dict) -> str:
    """Issue 12's targets for the vendor's side (p95 multiples of floor 2)."""
    rows = {r["endpoint"]: r for r in result["endpoints"]}
    views = [n for n in rows if n.endswith(("— page", "— fragment"))]
    saves = [n for n in rows if "(POST" in n]
    worst = max(views, key=lambda n: rows[n]["x_floor"])
    worst_save = max(saves, key=lambda n: rows[n]["x_floor"])
    return "\n".join(
        [
            "| target | goal | measured |",
            "|---|---|---|",
            f"| vendor index views p95 (page and fragment) | ≤ 4× | "
            f"worst {rows[worst]['x_floor']}× ({worst}) |",
            f"| vendor deal page p95 | ≤ 2× | {rows['vendor deal page']['x_floor']}× |",
            f"| vendor saves p95 | ≤ 2× | worst {rows[worst_save]['x_floor']}× ({worst_save}) |",
            f"| save response | ≤ 4 KB | largest {max(rows[n]['bytes'] for n in saves):,} B |",
        ]
    )


# ---------------------------------------------------------------- one size


def run_size(args, deals: int, workdir: Path) -> dict:
    url = databases.create(args.database_url, workdir)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    env = app_env(url)
    server = None
    try:
        vendor = getattr(args, "vendor", False)
        size = f"{args.partners:,} partners, {deals:,} shared deals" if vendor else ""
        print(f"\n## {backend}, {size or f'{deals:,} deals per partner'}", flush=True)
        flask(env, "db", "upgrade")
        seed = (
            ["--partners", str(args.partners), "--shared-deals", str(deals)]
            if vendor
            else ["--deals", str(deals)]
        )
        started = time.perf_counter()
        out = flask(env, "seed-demo", *seed)
        seed_seconds = time.perf_counter() - started
        print(f"seed-demo {' '.join(seed)}: {seed_seconds:.1f} s ({out.strip().splitlines()[-1]})")
        ids = vendor_lookups(url) if vendor else lookups(url)
        server = Server(env, workdir / f"gunicorn-{backend}-{deals}.log")
        session = Session(server.port, VENDOR_EMAIL if vendor else EMAIL)
        plan = vendor_endpoints(ids) if vendor else endpoints(ids)
        if getattr(args, "only", None):
            words = [w.strip() for w in args.only.split(",") if w.strip()]
            floors = [e for e in plan if e.name.startswith("floor")]
            plan = [e for e in plan if e not in floors and any(w in e.name for w in words)] + floors
        state: dict = {}
        # "At start": once both workers have booted and answered a few requests.
        drive(session, plan[-2], 20, time.monotonic() + 60, state)
        pss_start = server.pss_mb()
        master_start = server.master_pss_mb()
        served = 3 + 20
        rounds: dict[str, list] = {e.name: [] for e in plan}
        began = time.monotonic()
        for number in range(args.rounds):
            for endpoint in plan:
                drive(session, endpoint, args.warmup, time.monotonic() + 60, state)
                lat, sizes, statuses = drive(
                    session, endpoint, args.requests, time.monotonic() + args.max_seconds, state
                )
                served += args.warmup + len(lat)
                rounds[endpoint.name].append(
                    {
                        "p50": percentile(lat, 50),
                        "p95": percentile(lat, 95),
                        "bytes": statistics.median(sizes),
                        "n": len(lat),
                        "statuses": dict(statuses),
                    }
                )
            print(
                f"round {number + 1}/{args.rounds} done ({served:,} requests, "
                f"{time.monotonic() - began:.0f} s)",
                flush=True,
            )
        # The soak: args.soak more requests, the same mix plus index views with a new
        # value each time, so that anything kept per distinct request would keep growing
        # between the two readings. The varied views run first, until the bounded caches
        # (16 board statements, SQLAlchemy's compiled statements) hold their shapes: a
        # one-off step there is not growth.
        varied = varied_endpoints()
        for endpoint in varied:
            lat, _, _ = drive(session, endpoint, 40, time.monotonic() + 120, state)  # > 16 kept
            served += len(lat)
        pss_rounds, uss_rounds = server.pss_mb(), server.uss_mb()
        master_rounds = server.master_pss_mb()
        soak_deadline = time.monotonic() + args.soak_seconds
        soaked = 0
        uss_half = None  # halfway through the soak: did the second half still grow?
        while soaked < args.soak and time.monotonic() < soak_deadline:
            for endpoint in soak_mix(plan, varied):
                lat, _, _ = drive(session, endpoint, SOAK_BATCH, soak_deadline, state)
                soaked += len(lat)
                if uss_half is None and soaked >= args.soak // 2:
                    uss_half, soaked_half = server.uss_mb(), soaked
        served += soaked
        pss_end, uss_end = server.pss_mb(), server.uss_mb()
        master_end = server.master_pss_mb()
        results = summarise(rounds)
        return {
            "backend": backend,
            "deals_per_partner": deals,
            "seed_seconds": round(seed_seconds, 1),
            "requests_per_endpoint": args.requests,
            "rounds": args.rounds,
            "served": served,
            "soaked": soaked,
            "pss_mb": {"start": pss_start, "after_rounds": pss_rounds, "end": pss_end},
            "uss_mb": {
                "after_rounds": uss_rounds,
                **({"half": uss_half, "soaked_half": soaked_half} if uss_half else {}),
                "end": uss_end,
            },
            "master_pss_mb": {
                "start": master_start,
                "after_rounds": master_rounds,
                "end": master_end,
            },
            "endpoints": results,
            **({"vendor": True, "partners": args.partners} if vendor else {}),
        }
    finally:
        if server:
            server.stop()
        if not args.keep:
            databases.drop(url)


def summarise(rounds: dict) -> list[dict]:
    floor = statistics.median(r["p95"] for r in rounds["floor 2: 1 row + template"])
    table = []
    for name, runs in rounds.items():
        statuses = Counter()
        for r in runs:
            statuses.update(r["statuses"])
        p95 = statistics.median(r["p95"] for r in runs)
        table.append(
            {
                "endpoint": name,
                "p50_ms": round(statistics.median(r["p50"] for r in runs), 1),
                "p95_ms": round(p95, 1),
                "bytes": int(statistics.median(r["bytes"] for r in runs)),
                "x_floor": round(p95 / floor, 1),
                "statuses": {
                    str(k): v for k, v in sorted(statuses.items(), key=lambda item: str(item[0]))
                },
            }
        )
    return table


def master_line(master: dict, pss: dict) -> str:
    """The master's PSS, and master and workers together: with a preloaded app the workers'
    PSS alone leaves out the master's share of the pages they share with it."""
    return (
        f"PSS of the master (MB): start {master['start']}, after the rounds "
        f"{master['after_rounds']}, at the end {master['end']}; master and workers at the "
        f"end: {master['end'] + sum(pss['end']):.1f} MB."
    )


def uss_line(uss: dict) -> str:
    """The workers' private memory (USS) over the soak, and its growth in the second half:
    the bounded caches fill and the allocators spread over more pages mostly in the
    first 10,000 soak requests (docs/performance.md, "After stop 20: what grows inside a
    forked worker")."""
    line = f"USS per worker (MB): after the rounds {uss['after_rounds']}"
    if "half" in uss:
        second = [round(e - h, 1) for h, e in zip(uss["half"], uss["end"], strict=True)]
        line += (
            f", after {uss['soaked_half']:,} soak requests {uss['half']}, at the end "
            f"{uss['end']}; second half of the soak: {second} MB"
        )
    return line + "."


def markdown(result: dict) -> str:
    pss = result["pss_mb"]
    size = f"{result['deals_per_partner']:,} deals per partner"
    if result.get("vendor"):  # deals_per_partner holds the shared deals in all
        size = (
            f"the vendor: {result['partners']:,} partners, "
            f"{result['deals_per_partner']:,} shared deals"
        )
    lines = [
        f"### {result['backend']}, {size}",
        "",
        *([run_header(result["run"])] if "run" in result else []),
        f"seed: {result['seed_seconds']} s; {result['rounds']} rounds of "
        f"{result['requests_per_endpoint']} requests per endpoint over {CONNECTIONS} "
        f"connections; {result['served']:,} requests served in all.",
        f"PSS per worker (MB): start {pss['start']}, after the rounds and the varied views "
        f"{pss['after_rounds']}, "
        f"after {result['served']:,} requests {pss['end']}; "
        f"{pss_growth(pss, result.get('soaked', 0))}.",
        *([master_line(result["master_pss_mb"], pss)] if "master_pss_mb" in result else []),
        *([uss_line(result["uss_mb"])] if "uss_mb" in result else []),
        "",
        "| endpoint | p50 ms | p95 ms | bytes | p95 × floor 2 | status |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in result["endpoints"]:
        codes = row["statuses"]
        if set(codes) == {"404"} and "team save" in row["endpoint"]:
            lines.append(f"| {row['endpoint']} | n/a (404) | | | | |")
            continue
        status = ", ".join(f"{k}×{v}" for k, v in codes.items())
        lines.append(
            f"| {row['endpoint']} | {row['p50_ms']} | {row['p95_ms']} | {row['bytes']:,} | "
            f"{row['x_floor']} | {status} |"
        )
    return "\n".join(lines)


def targets(result: dict) -> str:
    """The issue's targets against this result (p95 multiples of floor 2)."""
    rows = {r["endpoint"]: r for r in result["endpoints"]}

    def worst(names):
        name = max(names, key=lambda n: rows[n]["x_floor"])
        return f"{rows[name]['x_floor']}× ({name})"

    apart = ("free text", "common word", "board")  # measured against targets of their own
    fragments = [n for n in rows if n.endswith("fragment") and not n.startswith(apart)]
    pages = [n for n in rows if n.endswith("— page") and not n.startswith(apart)]
    board = [n for n in rows if n.startswith("board")]
    free_text = [n for n in rows if n.startswith("free text")]
    saves = [n for n in rows if n.endswith("(POST, htmx)") and not n.startswith("board")]
    per_row = max(rows[n]["bytes"] / 25 for n in fragments)
    share = max(rows[n]["bytes"] / rows[n.replace("fragment", "page")]["bytes"] for n in fragments)
    pss = result["pss_mb"]
    team = rows["team save (POST, htmx)"]
    team_x = "n/a (404)" if set(team["statuses"]) == {"404"} else f"{team['x_floor']}×"
    return "\n".join(
        [
            "| target | goal | measured |",
            "|---|---|---|",
            f"| index fragment p95, any filter but free text | ≤ 4× | worst {worst(fragments)} |",
            f"| free-text search p95 | ≤ 8× | worst {worst(free_text)} |",
            f"| full page p95 | ≤ 6× | worst {worst(pages)} |",
            f"| deal page p95 | ≤ 2× | {rows['deal page']['x_floor']}× |",
            f"| team save (small POST) p95 | ≤ 2× | {team_x} |",
            f"| deal page saves (POST, htmx) p95, bytes | ≤ 2×, ≤ 4 KB | worst {worst(saves)}, "
            f"largest {max(rows[n]['bytes'] for n in saves):,} B |",
            f"| board (page, fragment, show more, move) p95 | ≤ 4× | worst {worst(board)} |",
            f"| fragment bytes per row (25 rows) | ≤ 300 B | {per_row:.0f} B |",
            f"| fragment / full page | ≤ 40% | {share:.0%} |",
            f"| PSS per worker after {result['served']:,} requests | ≤ 80 MB, flat | "
            f"{max(pss['end'])} MB (after the rounds {max(pss['after_rounds'])} MB; "
            f"{pss_growth(pss, result.get('soaked', 0))}) |",
        ]
    )


def targets_text(result: dict) -> str:
    """The targets table of a result, after a blank line; none for an --only run."""
    if result.get("only"):
        return f"\n\n(only the endpoints named with: {result['only']}; no targets table)"
    check = vendor_targets if result.get("vendor") else targets
    return "\n\n" + check(result)


def run_header(run: dict) -> str:
    """When, on what load and which code a result was measured: its table's header line."""
    start, end = run["load_average_start"], run["load_average_end"]
    return (
        f"Run {run['started']} to {run['ended']}; load average (1 min) {start[0]:.2f} at the "
        f"start, {end[0]:.2f} at the end; commit {run['commit']}, code {run['code']}."
    )


def git_commit() -> str:
    """The checked-out commit, "+changes" when the work tree differs from it."""

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def code_fingerprint() -> str:
    """A short hash of the app's code as measured (the work tree may be ahead of git)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(
        [*ROOT.glob("*.py"), *ROOT.glob("[bst]*/**/*.py"), *ROOT.glob("templates/**/*")]
    ):
        if path.is_file() and "tests" not in path.parts and "bench" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--deals",
        default="100000,1000000",
        help="deals per partner (with --vendor: shared deals in all), comma-separated sizes",
    )
    parser.add_argument("--requests", type=int, default=200, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=4, help="unmeasured requests first")
    parser.add_argument(
        "--soak", type=int, default=20_000, help="requests after the rounds, before the last PSS"
    )
    parser.add_argument("--soak-seconds", type=float, default=900, help="time bound of the soak")
    parser.add_argument("--max-seconds", type=float, default=120, help="bound per endpoint")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server to make the temporary database on (default: SQLite)",
    )
    parser.add_argument(
        "--vendor",
        action="store_true",
        help="the vendor's side (issue 12): seed --partners accounts and --deals shared deals "
        "in all, log in as Rita and measure her views and saves",
    )
    parser.add_argument(
        "--partners", type=int, default=1000, help="with --vendor: partner accounts to add"
    )
    parser.add_argument(
        "--only",
        help="comma-separated words: measure only the endpoints whose name holds one (and "
        "the floors), and print no targets table (it needs every endpoint)",
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument(
        "--report",
        type=Path,
        nargs="+",
        help="print the tables of earlier --out files; run nothing",
    )
    args = parser.parse_args(argv)
    if args.report:
        for path in args.report:
            for result in json.loads(path.read_text())["results"]:
                print(markdown(result) + targets_text(result) + "\n")
        return 0
    # A plain `kill` still stops gunicorn and drops the temporary database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = [int(s.replace("_", "")) for s in args.deals.split(",")]
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "load_average": os.getloadavg(),
        "code": code_fingerprint(),
    }
    results = []
    with tempfile.TemporaryDirectory(prefix="shared-deals-bench-") as tmp:
        for deals in sizes:
            started, load_start = datetime.now(UTC), os.getloadavg()
            result = run_size(args, deals, Path(tmp))
            result["run"] = {
                "started": started.isoformat(timespec="seconds"),
                "ended": datetime.now(UTC).isoformat(timespec="seconds"),
                "load_average_start": load_start,
                "load_average_end": os.getloadavg(),
                "commit": git_commit(),
                "code": meta["code"],
            }
            if args.only:
                result["only"] = args.only
            results.append(result)
            print(markdown(result) + targets_text(result), flush=True)
    meta["load_average_end"] = os.getloadavg()
    if args.out:
        args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
