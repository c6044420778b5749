"""gunicorn's configuration, read from the directory gunicorn starts in (the repository root).

The app is built once, in the master, and the workers are forked from it: Python's
modules, the templates and the catalogs are then shared between the processes page by
page (copy-on-write) instead of each worker building its own. Anything on the command
line (`-w`, `-b`, `--limit-request-line`...) still applies on top of this file.
"""

import gc

preload_app = True


def when_ready(server):
    """Before the first fork: load what every worker's first requests would (i18n.warm_up)."""
    from i18n import warm_up

    warm_up(server.app.wsgi())


def pre_fork(server, worker):
    """Move everything the master built out of the collector's sight before forking.

    The cyclic collector writes to every object it examines: in a worker it would copy
    each shared page it touches. Frozen objects are never examined (Python's gc.freeze).
    """
    gc.freeze()


def post_fork(server, worker):
    """Give the worker pools of its own: never use a connection opened in the master.

    The master may have connected while building the app (the embedded SQLite database
    migrates and seeds itself at start). SQLAlchemy's recipe for os.fork: replace each
    engine's pool in the child without closing the parent's connections.
    """
    from extensions import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
