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

MAX_FOLLOW_UP_GAP = 0.10  # answer_pass of follow-ups (with history) at least that of first turns minus this


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
@click.option(
    "--conversations",
    "conversation_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Multi-turn eval JSONL (repeatable): every turn scored with and without history; "
    f"--gate then requires follow-ups within {MAX_FOLLOW_UP_GAP} answer_pass of first turns.",
)
def eval_command(
    datasets: tuple[Path, ...],
    k: int,
    top_k: int | None,
    configs: tuple[str, ...],
    json_out: Path | None,
    report_dir: Path | None,
    gate: bool,
    conversation_files: tuple[Path, ...],
) -> None:
    """Score answers and retrieval on eval datasets, configurations side by side."""
    if conversation_files:
        if datasets or configs or report_dir:
            raise click.UsageError(
                "--conversations runs the product on conversations alone; drop --dataset/--config/--report"
            )
        _conversation_eval(conversation_files, gate, json_out)
        return
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


def _conversation_eval(paths: tuple[Path, ...], gate: bool, json_out: Path | None) -> None:
    from core.settings import Settings
    from evals.conversations import follow_up_gap, load_conversations, render, run_conversations, summarize
    from evals.dataset import DatasetError
    from rag.service import PolicyQA

    try:
        conversations = load_conversations(paths)
    except DatasetError as exc:
        click.secho(f"error: invalid conversation file: {exc}", fg="red", err=True)
        sys.exit(2)
    results = run_conversations(PolicyQA(Settings()), conversations)
    summary = summarize(results)
    gap = follow_up_gap(summary)
    click.echo(
        f"{len(conversations)} conversations, {len(results)} turns from {', '.join(p.name for p in paths)}\n"
    )
    click.echo(render(summary))
    click.echo(
        f"\nfollow-ups (with history) trail first turns by {gap:+.3f} answer_pass (gate: at most {MAX_FOLLOW_UP_GAP})"
    )
    if json_out:
        turns = [
            {
                "conversation": r.conversation,
                "group": r.group,
                "understood_as": r.understood_as,
                "with_history": r.with_history.to_dict(),
                "alone": r.alone.to_dict(),
            }
            for r in results
        ]
        json_out.write_text(
            json.dumps(
                {"summary": summary, "follow_up_gap": gap, "turns": turns}, ensure_ascii=False, indent=1
            ),
            encoding="utf-8",
        )
    if gate and gap > MAX_FOLLOW_UP_GAP + 1e-9:
        click.secho("gate FAILED: follow-ups trail first turns by more than the limit", fg="red", err=True)
        sys.exit(1)
