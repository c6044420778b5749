"""The app the bench serves: the real one, plus the two floors it measures against.

gunicorn -w 2 'bench.server:create_app()'
"""

from flask import Flask

from app import create_app as create_real_app
from bench import floors


def create_app(config_overrides: dict | None = None) -> Flask:
    """The application of `app.create_app()`, with the bench's floors registered."""
    app = create_real_app(config_overrides)
    app.register_blueprint(floors.bp)
    return app
