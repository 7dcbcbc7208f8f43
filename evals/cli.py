"""``policyqa eval``: the command the ``evals`` package attaches to the product CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from evals.baselines import CONFIG_NAMES
from evals.dataset import default_dataset
from evals.metrics import MRR_DEPTH
from evals.run import Progress, order_configs, render_summary, run_eval


def _stderr_progress() -> Progress | None:
    if not sys.stderr.isatty():
        return None

    def show(name: str, done: int, total: int) -> None:
        click.echo(f"\r  {name}: {done}/{total}", nl=done == total, err=True)

    return show


@click.command("eval")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Eval JSONL file (repeatable). Default: the bundled econsec-deck.jsonl.",
)
@click.option(
    "--k", "k", default=5, show_default=True, type=click.IntRange(1, MRR_DEPTH), help="The k of hit@k."
)
@click.option(
    "--top-k",
    "top_k",
    default=None,
    type=click.IntRange(1, 50),
    help="Sources each configuration returns. Default: the service setting (POLICYQA_TOP_K).",
)
@click.option(
    "--config",
    "configs",
    multiple=True,
    type=click.Choice([*CONFIG_NAMES, "all"]),
    help="Configuration to run (repeatable; 'all' = every one). Default: product.",
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the eval JSON here."
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write an HTML report with a chart into this folder.",
)
@click.option(
    "--gate",
    is_flag=True,
    help="Check evals/thresholds.toml (running the configurations it names) and exit 1 if it fails.",
)
def eval_command(
    datasets: tuple[Path, ...],
    k: int,
    top_k: int | None,
    configs: tuple[str, ...],
    json_out: Path | None,
    report_dir: Path | None,
    gate: bool,
) -> None:
    """Score answers and retrieval on eval datasets, configurations side by side."""
    from core.settings import Settings
    from evals.dataset import DatasetError, load_datasets
    from evals.gate import load_thresholds, required_configs
    from rag.service import PolicyQA

    def fail(message: str, code: int = 2) -> None:
        click.secho(f"error: {message}", fg="red", err=True)
        sys.exit(code)

    paths = list(datasets) or [default_dataset()]
    try:
        cases = load_datasets(paths)
    except DatasetError as exc:
        fail(f"invalid eval dataset: {exc}")
    thresholds = None
    if gate:
        try:
            thresholds = load_thresholds()
        except (OSError, ValueError) as exc:
            fail(f"cannot read the gate thresholds: {exc}")
    names = order_configs(configs, required_configs(thresholds) if thresholds else ())
    added = [n for n in names if n not in order_configs(configs)]
    if added:
        click.echo(f"note: also running {', '.join(added)}: the gate compares them", err=True)

    settings = Settings()
    service = PolicyQA(settings)  # an unreachable or mismatched index is reported by the CLI's error mapping
    documents = service.documents()
    if not documents:
        where = settings.chroma_url or settings.chroma_path
        fail(f"the index at {where} holds no documents: run `policyqa ingest` first")
    wanted = {doc for case in cases for doc, _ in case.expected_pages}
    absent = sorted(wanted - set(documents))
    if absent:
        click.secho(
            f"warning: the datasets expect documents that are not in the index: {', '.join(absent)} "
            "(their questions cannot pass)",
            fg="yellow",
            err=True,
        )

    from evals.baselines import BaselineError

    try:
        run = run_eval(
            service,
            cases,
            names,
            k=k,
            top_k=top_k,
            datasets=[str(p) for p in paths],
            thresholds=thresholds,
            progress=_stderr_progress(),
        )
    except BaselineError as exc:
        fail(str(exc))
    click.echo(render_summary(run))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(run.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        click.echo(f"\nJSON: {json_out}")
    if report_dir:
        from evals.report import write_report

        click.echo(f"report: {write_report(run, report_dir)}")
    if run.gate_failures is not None:
        if run.gate_failures:
            click.secho("\ngate FAILED:", fg="red", bold=True)
            for failure in run.gate_failures:
                click.secho(f"  - {failure}", fg="red")
            sys.exit(1)
        click.secho("\ngate passed", fg="green", bold=True)
