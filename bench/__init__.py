"""Benchmarks: `python bench/run.py` (see bench/README.md). Nothing here runs in tests or CI."""

# htmx gets a refused save as 200 (htmx 2 swaps no 4xx bodies): its message, an alert,
# tells it from a change. A bench that timed refusals would time the wrong path.
REFUSED = b'role="alert"'
