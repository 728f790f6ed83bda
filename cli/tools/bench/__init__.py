"""Benchmarks on the sandbox (`projectk bench …`); not tests, and never run against production."""
