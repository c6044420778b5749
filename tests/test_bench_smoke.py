"""The bench script starts, and its floors exist only when asked for (no timing here)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests import databases

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command, options",
    [
        (["bench/run.py"], ("--deals", "--requests")),
        (["bench/ab.py"], ("--a", "--b", "--batches", "--only")),
        (["-m", "bench.memory_soak"], ("--tracemalloc", "--every")),
        (["-m", "bench.worker_memory"], ("--tracemalloc", "--every", "--soak")),
    ],
    ids=["run", "ab", "memory_soak", "worker_memory"],
)
def test_bench_help(command, options):
    result = subprocess.run(  # noqa: S603 (the commands are this test's own literals)
        [sys.executable, *command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert all(option in result.stdout for option in options)


def test_floors_only_with_the_bench_switch(app, database_url):
    from bench.server import create_app

    assert "bench.hello" not in app.view_functions
    bench_app = create_app(databases.test_config(database_url))
    client = bench_app.test_client()
    assert client.get("/bench/hello").get_data(as_text=True) == "hello"
    response = client.get("/bench/row?id=1")
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("<p>")
    assert client.get("/deals").status_code == 302  # everything else still needs a login


def test_worker_memory_route_only_when_asked(app, database_url, monkeypatch):
    """`/bench/memory` is served by the bench app only with SHARED_DEALS_BENCH_MEMORY=1."""
    from bench.server import create_app

    monkeypatch.delenv("SHARED_DEALS_BENCH_MEMORY", raising=False)
    plain = create_app(databases.test_config(database_url))
    assert "bench_memory.memory" not in plain.view_functions
    assert plain.test_client().get("/bench/memory").status_code == 302  # to the login page
    monkeypatch.setenv("SHARED_DEALS_BENCH_MEMORY", "1")
    client = create_app(databases.test_config(database_url)).test_client()
    reading = client.get("/bench/memory?label=one").get_json()
    assert reading["smaps"]["pss"] > 0 and reading["gc"]["objects"] > 0
    assert reading["caches"]["statements"] >= 0
    assert client.get("/bench/memory?label=one").get_json() == reading  # a label reads once


def test_soak_report_shows_the_second_half_of_the_workers_private_memory():
    from bench.run import uss_line

    half = {"after_rounds": [51.4, 51.7], "half": [54.1, 54.2], "soaked_half": 10_000}
    line = uss_line({**half, "end": [54.8, 54.2]})
    assert "after 10,000 soak requests [54.1, 54.2]" in line
    assert line.endswith("second half of the soak: [0.7, 0.0] MB.")
    assert "second half" not in uss_line({"after_rounds": [51.4, 51.7], "end": [51.5, 51.7]})
