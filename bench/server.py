"""The app the bench serves: the real one, plus the two floors it measures against.

gunicorn -w 2 'bench.server:create_app()'

With `SHARED_DEALS_BENCH_MEMORY=1` (bench/worker_memory.py sets it; off by default) it
also serves `/bench/memory`, the answering worker's memory (bench/worker_stats.py).
"""

import os

from flask import Flask

from app import create_app as create_real_app
from bench import floors


def create_app(config_overrides: dict | None = None) -> Flask:
    """The application of `app.create_app()`, with the bench's floors registered."""
    app = create_real_app(config_overrides)
    app.register_blueprint(floors.bp)
    if os.environ.get("SHARED_DEALS_BENCH_MEMORY") == "1":
        from bench import worker_stats

        app.register_blueprint(worker_stats.bp)
    return app
