"""gunicorn.conf.py: the app is built once in the master, and each worker connects itself.

gunicorn is started as in production (`gunicorn -w 2 -b ...` from the repository root,
which reads ./gunicorn.conf.py), serving tests/gunicorn_app.py: the real app with
AUTO_SETUP on, so the master migrates, seeds and keeps a pooled connection, as the
embedded database does at every start.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import databases

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> dict:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 200, body[:500]
    return json.loads(body)


def _workers(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.fixture
def gunicorn(database_url, tmp_path):
    """gunicorn -w 2 on a database of the test's own: (master pid, port)."""
    url = databases.create(databases.server_url(database_url), tmp_path)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PROBE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as out:
        process = subprocess.Popen(  # noqa: S603 (this test's own command)
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"{HOST}:{port}"]
            + ["tests.gunicorn_app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while len(_workers(process.pid)) < 2 or not _answers(port):
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield process.pid, port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        databases.drop(url)


def _answers(port: int) -> bool:
    try:
        _get(port, "/probe")
    except OSError:
        return False
    return True


def test_workers_share_the_preloaded_app_and_connect_themselves(gunicorn):
    master, port = gunicorn
    answers = {}
    with ThreadPoolExecutor(2) as pool:
        # Two requests at once: each worker takes one (the first holds its worker).
        for _ in range(10):
            for answer in pool.map(lambda hold: _get(port, f"/probe?hold={hold}"), (0.5, 0)):
                answers[answer["pid"]] = answer
            if len(answers) == 2:
                break
    assert sorted(answers) == sorted(_workers(master))
    for answer in answers.values():
        assert answer["app_built_by"] == master  # preload_app: built once, in the master
        assert answer["frozen_objects"] > 0  # gc.freeze() before the fork
        # post_fork: the worker's pool is its own, never the master's connection.
        assert answer["connection_opened_by"] == answer["pid"]
        assert answer["accounts"] > 0  # the database the master migrated and seeded
