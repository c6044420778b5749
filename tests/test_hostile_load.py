"""20 hostile requests at once do not stop another account's user from saving a field.

The hostile requests are bench/hostile.py's mix (20 filters in an 8 KB query string,
10,000 filters, a CSV export, saved views with huge queries, ...), sent by Hana
(Harbor Digital) from 20 threads released together with Alice's write (Brightside
Agency). Only success is asserted; how long the write takes is measured in
bench/hostile.py, never here.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from bench.hostile import hostile_mix
from models import Deal, User
from tests.conftest import log_in

HOSTILE = 20


def test_a_normal_write_succeeds_while_20_hostile_requests_run(fresh_app):
    from extensions import db

    with fresh_app.app_context():
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        alice, hana = users["alice@brightside.example"], users["hana@harbor.example"]
        deal_id = db.session.scalar(
            sa.select(Deal.id).where(
                Deal.account_id == alice.account_id, Deal.name == "Acme Corp website relaunch"
            )
        )
        hostile_clients = [log_in(fresh_app, fresh_app.test_client(), hana) for _ in range(HOSTILE)]
        normal_client = log_in(fresh_app, fresh_app.test_client(), alice)
    mix = hostile_mix()
    start = threading.Barrier(HOSTILE + 1)
    hostile_statuses, normal_statuses, failures = [], [], []

    def hostile(number: int):
        name, method, path, body, headers = mix[number % len(mix)]
        payload = body(str(number)) if callable(body) else body
        start.wait()
        try:
            response = hostile_clients[number].open(
                path, method=method, data=payload, headers=headers
            )
            response.get_data()  # a streamed export is read to its end
            hostile_statuses.append((name, response.status_code))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append((name, repr(error)))

    def normal():
        start.wait()
        try:
            response = normal_client.post(
                f"/deals/{deal_id}/fields/company", data={"company": "Written under load"}
            )
            normal_statuses.append(response.status_code)
        except Exception as error:  # noqa: BLE001
            failures.append(("normal write", repr(error)))

    threads = [threading.Thread(target=hostile, args=(n,)) for n in range(HOSTILE)]
    threads.append(threading.Thread(target=normal))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert normal_statuses == [303]
    assert len(hostile_statuses) == HOSTILE
    assert all(status < 500 for _, status in hostile_statuses), hostile_statuses
    with fresh_app.app_context():
        assert db.session.get(Deal, deal_id).company_name == "Written under load"
