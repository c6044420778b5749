"""Benchmarks: `python bench/run.py` (see bench/README.md). Nothing here runs in tests or CI."""
