"""Retrieval and answer evaluation, baselines and benchmarks."""
