"""The deal page and its saves, timed or profiled in-process (Flask test client).

Against a database seeded by `flask seed-demo --deals N` (DATABASE_URL), as Alice
(partner) on "Acme Corp website relaunch" (shared, registrations, its history made
long once here: 120 extra notes) and as Rita (vendor) on her side of it:

    export DATABASE_URL=sqlite:////tmp/x/deals.db
    python -m bench.deal_page_inprocess time 200 ["deal page" "note save" …]
    python -m bench.deal_page_inprocess statements "note save"
    python -m bench.deal_page_inprocess profile "deal page" [30 [cumulative|tottime]]

`time N`: the median of N requests per endpoint (after 12 unmeasured), wall and CPU time
(the process's: steadier than wall time on a loaded machine), each as a multiple of
floor 2's (`/bench/row`). `profile NAME`: cProfile over 50
requests of one endpoint, the 30 costliest functions by cumulative time. `statements
NAME`: one request's SQL statements with their times, and the whole request's. Nothing here
runs in the tests: speed is measured in bench/, never asserted.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import statistics
import sys
import time

import sqlalchemy as sa

from bench import REFUSED
from bench.server import create_app
from bench.sessions import log_in_as
from extensions import db
from models import (
    Account,
    Activity,
    Deal,
    Product,
    RegistrationRequest,
    SharedDeal,
    Stage,
    User,
)
from services import activity as activity_service
from services import registration_requests

taken: list = []
# (vendor deal, request id) of open requests, each taken by one decline or approval; the
# shared deals "registration request" asked for, whose requests they take first.
opened: list = []
asked: list = []
REQUESTS_AT_ONCE = 25
HX = {"HX-Request": "true"}
EXTRA_HISTORY = 120
WARM_UP = 12  # requests before one is measured


def _endpoints(app):
    """(name, client, method, path or callable, body or callable) for each measured request."""
    with app.app_context():
        alice = db.session.scalar(sa.select(User).where(User.email == "alice@brightside.example"))
        rita = db.session.scalar(sa.select(User).where(User.email == "rita@northwind.example"))
        bob = db.session.scalar(sa.select(User).where(User.email == "bob@brightside.example"))
        deal = db.session.scalar(
            sa.select(Deal).where(
                Deal.account_id == alice.account_id, Deal.name == "Acme Corp website relaunch"
            )
        )
        shared = db.session.scalar(
            sa.select(SharedDeal).where(SharedDeal.partner_deal_id == deal.id)
        )
        count = db.session.scalar(
            sa.select(sa.func.count(Activity.id)).where(Activity.shared_deal_id == shared.id)
        )
        if count < EXTRA_HISTORY:
            for n in range(EXTRA_HISTORY):
                activity_service.record(shared, rita, "note", f"history note {n}")
            db.session.commit()
        # Alice's account's members of the team but Bob: the form's own side (the
        # vendor's members are not hers to post).
        team = sorted(
            u
            for u in db.session.scalars(
                sa.text(
                    "SELECT m.user_id FROM deal_team_members m JOIN users u ON u.id = m.user_id "
                    "WHERE m.shared_deal_id = :s AND u.account_id = :a"
                ).bindparams(s=shared.id, a=alice.account_id)
            )
            if u != bob.id
        )
        product = db.session.scalar(
            sa.select(Product.id).join(Account, Account.id == Product.vendor_account_id).limit(1)
        )
        stages = list(
            db.session.scalars(
                sa.select(Stage.id)
                .where(Stage.pipeline_id == deal.pipeline_id)
                .order_by(Stage.position)
            )
        )[:2]
        ids = {
            "deal": deal.id,
            "vendor_deal": shared.vendor_deal_id,
            "team": team,
            "bob": bob.id,
            "product": product,
            "stages": stages,
            "account": alice.account_id,
        }

    partner, vendor = app.test_client(), app.test_client()
    with app.app_context():
        log_in_as(app, partner, "alice@brightside.example")
        log_in_as(app, vendor, "rita@northwind.example")
    flip = {"n": 0}

    def toggle():
        flip["n"] += 1
        return flip["n"] % 2

    d = ids["deal"]
    # Registrations as the bench does them: each add on the next of 200 generated shared
    # deals, each deregistration takes back one that an add made.
    with app.app_context():
        save_deals = list(
            db.session.execute(
                sa.text(
                    "SELECT partner_deal_id, vendor_deal_id FROM shared_deals "
                    "WHERE partner_account_id = :a AND partner_deal_id <> :t "
                    "ORDER BY id DESC LIMIT 200"
                ).bindparams(a=ids["account"], t=d)
            )
        )
    added = {"n": 0}

    def add_path():
        added["n"] += 1
        return f"/deals/{save_deals[added['n'] % len(save_deals)][1]}/registrations"

    def deregister_path():
        deal, registration = taken.pop()
        return f"/deals/{deal}/registrations/{registration}/deregistration"

    free: list = []  # (partner deal, shared deal) neither registered nor requested

    def request_path():
        if not free:
            free.extend(free_to_request(app, ids["account"], REQUESTS_AT_ONCE))
        deal, shared_id = free.pop()
        asked.append(shared_id)
        return f"/deals/{deal}/registration-requests"

    def decision_path(decision):
        def path():
            if not opened:
                open_requests(app, ids["account"], REQUESTS_AT_ONCE)
            deal, request_id = opened.pop()
            return f"/deals/{deal}/registration-requests/{request_id}/{decision}"

        return path

    def team_body():
        # Bob added, then removed: what the form showed is the team before the change.
        with_bob = ids["team"] + [ids["bob"]]
        members, original = (with_bob, ids["team"]) if toggle() else (ids["team"], with_bob)
        return {"members": members, "original_members": original}

    return [
        ("floor 2", None, "GET", f"/bench/row?id={d}", None),
        ("deal page", partner, "GET", f"/deals/{d}", None),
        ("vendor deal page", vendor, "GET", f"/deals/{ids['vendor_deal']}", None),
        (
            "activity show more (htmx)",
            partner,
            "GET",
            f"/deals/{d}/activity?before=999999999",
            None,
        ),
        (
            "field save: amount",
            partner,
            "POST",
            f"/deals/{d}/fields/amount",
            lambda: {"amount": "1500" if toggle() else "2500"},
        ),
        ("team save", partner, "POST", f"/deals/{d}/team", team_body),
        (
            "product interest save",
            partner,
            "POST",
            f"/deals/{d}/products",
            lambda: {"products": [ids["product"]] if toggle() else [], "original_products": ""},
        ),
        (
            "note save",
            partner,
            "POST",
            f"/deals/{d}/notes/next_steps",
            lambda: {"text": f"Call back {toggle()}"},
        ),
        ("registration add", vendor, "POST", add_path, lambda: {}),
        ("registration deregister", vendor, "POST", deregister_path, lambda: {}),
        ("registration request", partner, "POST", request_path, lambda: {"message": "Please"}),
        (
            "request decline",
            vendor,
            "POST",
            decision_path("decline"),
            lambda: {"reason": "Another partner has it"},
        ),
        ("request approval", vendor, "POST", decision_path("approval"), lambda: {}),
        (
            "board move",
            partner,
            "POST",
            f"/deals/{d}/move",
            lambda: {"stage": ids["stages"][toggle()], "query": "layout=board"},
        ),
    ]


def free_to_request(app, account_id, count):
    """(partner deal, shared deal) of `count` of the account's shared deals that are neither
    registered nor requested."""
    with app.app_context():
        return list(
            db.session.execute(
                sa.text(
                    "SELECT d.id, s.id FROM shared_deals s "
                    "JOIN deals d ON d.id = s.partner_deal_id "
                    "WHERE s.partner_account_id = :a AND d.registered_until IS NULL "
                    "AND d.open_request_since IS NULL ORDER BY s.id DESC LIMIT :n"
                ).bindparams(a=account_id, n=count)
            )
        )


def open_requests(app, account_id, count):
    """Queue open requests for the declines and approvals: those "registration request"
    made, else `count` new ones (Alice's, through the service)."""
    with app.app_context():
        if asked:
            made = db.session.execute(
                sa.select(SharedDeal.vendor_deal_id, RegistrationRequest.id)
                .join(SharedDeal, SharedDeal.id == RegistrationRequest.shared_deal_id)
                .where(RegistrationRequest.shared_deal_id.in_(asked), RegistrationRequest.is_open())
            )
            opened.extend(tuple(row) for row in made)
            asked.clear()
            if opened:
                return
        alice = db.session.scalar(sa.select(User).where(User.email == "alice@brightside.example"))
        for _, shared_id in free_to_request(app, account_id, count):
            shared = db.session.get(SharedDeal, shared_id)
            request_id = registration_requests.request(shared, alice, "Please")
            opened.append((shared.vendor_deal_id, request_id))


def _send(app, endpoint):
    name, client, method, path, body = endpoint
    client = client or app.test_client()
    path = path() if callable(path) else path
    if method == "GET":
        response = client.get(path, headers=HX if "htmx" in name else {})
    else:
        response = client.post(path, data=body(), headers=HX)
    assert response.status_code == 200, (name, response.status_code, response.data[:300])
    assert REFUSED not in response.data, (name, response.data[:300])
    if name == "registration add":
        found = re.findall(rb"/deals/(\d+)/registrations/(\d+)/deregistration", response.data)
        taken.append(tuple(int(x) for x in max(found, key=lambda f: int(f[1]))))
    return len(response.data)


def main(argv):
    app = create_app({"WTF_CSRF_ENABLED": False})
    endpoints = _endpoints(app)
    if argv[0] == "time":
        n = int(argv[1]) if len(argv) > 1 else 200
        medians, cpus = {}, {}
        chosen = set(argv[2:])  # only these (and floor 2), when named
        for endpoint in endpoints:
            if chosen and endpoint[0] not in chosen | {"floor 2"}:
                continue
            for _ in range(WARM_UP):
                size = _send(app, endpoint)
            times, cpu = [], []
            for _ in range(n):
                start, start_cpu = time.perf_counter(), time.process_time()
                _send(app, endpoint)
                cpu.append(time.process_time() - start_cpu)
                times.append(time.perf_counter() - start)
            medians[endpoint[0]] = statistics.median(times) * 1000
            cpus[endpoint[0]] = statistics.median(cpu) * 1000
            print(
                f"{endpoint[0]:28} {medians[endpoint[0]]:6.2f} ms "
                f"{medians[endpoint[0]] / medians['floor 2']:5.1f}× floor 2 | CPU "
                f"{cpus[endpoint[0]]:6.2f} ms {cpus[endpoint[0]] / cpus['floor 2']:5.1f}× | "
                f"{size:7,} B",
                flush=True,
            )
    elif argv[0] == "statements":
        (endpoint,) = [e for e in endpoints if e[0] == argv[1]]
        # PostgreSQL's steady state: psycopg prepares a statement at its fifth run, and the
        # server plans it for its values five times more before it may keep a generic plan.
        for _ in range(WARM_UP):
            _send(app, endpoint)
        with app.app_context():
            engine = db.engine
        seen = []

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t0"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            took = (time.perf_counter() - conn.info["t0"]) * 1000
            seen.append(f"{took:6.2f} ms  {' '.join(statement.split())[:150]}")

        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        for _ in range(3):  # the last of three
            seen.clear()
            start = time.perf_counter()
            _send(app, endpoint)
        print(f"{(time.perf_counter() - start) * 1000:.1f} ms in all, {len(seen)} statements")
        print("\n".join(seen))
    else:
        (endpoint,) = [e for e in endpoints if e[0] == argv[1]]
        for _ in range(WARM_UP):
            _send(app, endpoint)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(50):
            _send(app, endpoint)
        profile.disable()
        pstats.Stats(profile).sort_stats(argv[3] if len(argv) > 3 else "cumulative").print_stats(
            int(argv[2]) if len(argv) > 2 else 30
        )


if __name__ == "__main__":
    main(sys.argv[1:])
