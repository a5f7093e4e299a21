"""Benchmarks (``formcheck bench``, ``bench-server``, live frame rate): speed is measured here, never asserted in a
test."""
