"""``policyqa bench``: the command the ``evals`` package attaches to the product CLI."""

from __future__ import annotations

from pathlib import Path

import click

from evals.bench.run import run_bench
from evals.bench.table import format_table


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "").replace(",", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter("a comma-separated list of page counts, e.g. 1000,10000") from None
    if not sizes or any(s < 1 for s in sizes):
        raise click.BadParameter("page counts must be positive")
    return sizes


@click.command()
@click.option("--sizes", default="1000", show_default=True, help="Corpus sizes in pages, comma-separated.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the synthetic corpora.")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Corpora and indexes go here (default: <data dir>/bench). Corpora are reused by size and seed.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the results here (also after every phase, so a stopped run keeps its figures).",
)
@click.option(
    "--queries",
    default=154,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="In-process search() and answer() calls each (questions cycled).",
)
@click.option("--http-queries", default=154, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--budget",
    "budget_s",
    default=600.0,
    show_default=True,
    type=float,
    help="Time limit of each query phase in seconds.",
)
@click.option("--naive/--no-naive", default=True, show_default=True, help="Measure the llama-index baseline.")
@click.option("--load", "with_load", is_flag=True, help="Also run the HTTP load test at each size.")
@click.option("--load-clients", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--load-seconds", default=60.0, show_default=True, type=click.FloatRange(1, 3600))
@click.option("--build-workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--timeout",
    "ingest_timeout_s",
    default=3600.0,
    show_default=True,
    type=float,
    help="Limit for building a corpus and for each ingest run, in seconds.",
)
@click.option(
    "--extract-profile",
    "extract_docs",
    default=0,
    show_default=True,
    type=click.IntRange(0, 10_000),
    help="Also time PDF extraction of this many documents serially vs two processes.",
)
def bench_command(
    sizes: str,
    seed: int,
    workdir: Path | None,
    json_out: Path | None,
    queries: int,
    http_queries: int,
    budget_s: float,
    naive: bool,
    with_load: bool,
    load_clients: int,
    load_seconds: float,
    build_workers: int,
    ingest_timeout_s: float,
    extract_docs: int,
) -> None:
    """Benchmark ingest, search, answer and HTTP on synthetic corpora, against naive llama-index."""
    from core.settings import Settings

    workdir = workdir or Settings().data_dir / "bench"
    load = {"clients": load_clients, "seconds": load_seconds} if with_load else None
    result = run_bench(
        _sizes(sizes),
        workdir=workdir,
        seed=seed,
        queries=queries,
        http_queries=http_queries,
        budget_s=budget_s,
        build_workers=build_workers,
        ingest_timeout_s=ingest_timeout_s,
        naive=naive,
        load=load,
        extract_docs=extract_docs,
        log=lambda m: click.echo(m, err=True),
        json_out=json_out,
    )
    click.echo(format_table(result))
    if json_out:
        click.echo(f"\nwrote {json_out}", err=True)
