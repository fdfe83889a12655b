"""Benchmarks at national scale (`make bench`): each section measures the service beside a floor.

Not a test suite: ``tests/bench/test_bench.py`` runs every section at a tiny size only to prove it
works; the figures come from ``python -m tests.bench`` (see ``--help``).
"""
