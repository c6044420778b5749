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
        (["-m", "bench.memory_soak"], ("--tracemalloc", "--every")),
    ],
    ids=["run", "memory_soak"],
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
