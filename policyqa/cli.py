"""The ``policyqa`` command: ingest, search, ask, serve, eval, bench.

Each command is a thin shell over the same service objects the API uses.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NoReturn

import click

from core.errors import PolicyQAError
from core.settings import Settings


def _settings() -> Settings:
    return Settings()


def _service(settings: Settings):
    from rag.service import PolicyQA

    return PolicyQA(settings)


def _fail(message: str, code: int = 2) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


class _Commands(click.Group):
    """The command group; the one place where a domain error becomes ``error: …`` and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PolicyQAError as exc:
            _fail(exc.message)


def _dump(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(cls=_Commands)
@click.version_option(package_name="policyqa")
def main() -> None:
    """Question answering with page citations over Japanese policy PDFs."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Drop indexed documents whose files are gone.")
@click.option(
    "--reset", is_flag=True, help="Delete the whole index first (needed after changing the embedder)."
)
@click.option(
    "--allow-duplicate",
    is_flag=True,
    help="Index files whose bytes equal a live document's too (by default they are skipped).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the ingest report as JSON.")
def ingest(paths: tuple[Path, ...], prune: bool, reset: bool, allow_duplicate: bool, as_json: bool) -> None:
    """Ingest PDFs (default: the corpus folder). Unchanged files are skipped."""
    from tqdm import tqdm

    settings = _settings()
    service = _service(settings)
    bar = tqdm(total=0, unit="file", disable=as_json or not sys.stderr.isatty(), file=sys.stderr)

    def progress(name: str, done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(name[-40:])
        bar.refresh()

    try:
        report = service.ingest(
            paths, prune=prune, reset=reset, progress=progress, allow_duplicates=allow_duplicate
        )
    except (FileNotFoundError, PermissionError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write the index under {settings.data_dir}: {exc}")
    finally:
        bar.close()
    if as_json:
        _dump(report.to_dict())
    else:
        for f in report.files:
            if f.status == "failed":
                click.secho(f"  failed     {f.path}: {f.error}", fg="red", err=True)
            elif f.status == "duplicate":
                click.secho(f"  duplicate  {f.path}: {f.error}", fg="yellow", err=True)
            else:
                click.echo(f"  {f.status:<10} {f.doc_id} ({f.pages} pages, {f.chunks} chunks)")
        for doc_id in report.pruned:
            click.echo(f"  pruned     {doc_id}")
        for m in report.missing:
            click.secho(
                f"  notice: listed document not found: {m['title']} — save its PDF as "
                f"{m['expected_path']} (source: {m['landing_page']})",
                fg="yellow",
                err=True,
            )
        s = report.summary()
        click.echo(
            f"{s['documents']} documents ({s['added']} added, {s['updated']} updated, "
            f"{s['unchanged']} unchanged), {s['pages']} pages, {s['chunks']} chunks; "
            + (f"{s['duplicates']} duplicates skipped, " if s["duplicates"] else "")
            + f"{s['failed']} failed, {s['pruned']} pruned; {s['seconds']} s"
        )
    if not report.ok:
        sys.exit(1)


@main.command()
@click.argument("query")
@click.option("-k", "--top-k", default=None, type=click.IntRange(1, 50), help="How many chunks to show.")
@click.option("--doc", "documents", multiple=True, help="Only search these document ids.")
@click.option(
    "--legs", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True)
def search(query: str, top_k: int | None, documents: tuple[str, ...], legs: str, as_json: bool) -> None:
    """Show the ranked chunks for QUERY, with each retrieval leg's rank."""
    from rag.answer import Source

    service = _service(_settings())
    hits = service.search(query, top_k=top_k, documents=documents or None, legs=legs)
    if as_json:
        _dump({"query": query, "sources": [Source.of(h).model_dump() for h in hits]})
        return
    click.echo(f"{'#':>2} {'fused':>7} {'dense':>5} {'kw':>4}  doc / page")
    for i, h in enumerate(hits, start=1):
        click.echo(
            f"{i:>2} {h.score:7.4f} {h.dense_rank or '-':>5} {h.keyword_rank or '-':>4}  "
            f"{h.doc_title} p.{h.page}"
        )
        click.echo("      " + h.text.replace("\n", " ")[:160])


@main.command()
@click.argument("question")
@click.option("-k", "--top-k", default=None, type=click.IntRange(1, 50))
@click.option("--doc", "documents", multiple=True, help="Only answer from these document ids.")
@click.option(
    "--mode",
    type=click.Choice(["extractive", "llm"]),
    default=None,
    help="Default: llm when an LLM endpoint is configured, else extractive.",
)
@click.option("--json", "as_json", is_flag=True)
def ask(
    question: str, top_k: int | None, documents: tuple[str, ...], mode: str | None, as_json: bool
) -> None:
    """Answer QUESTION with citations."""
    service = _service(_settings())
    result = service.answer(question, top_k=top_k, documents=documents or None, mode=mode)
    if as_json:
        _dump(result.model_dump())
        return
    click.echo(result.answer)
    if result.notice:
        click.secho(f"({result.notice})", fg="yellow")
    if result.citations:
        click.echo("\n出典 / citations:")
        for c in result.citations:
            quote = c.quote.replace("\n", " ")
            click.echo(f"  {c.doc_title} p.{c.page}  「{quote[:80]}{'…' if len(quote) > 80 else ''}」")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the HTTP API (/v1, /docs) and the chat UI (/ui)."""
    import uvicorn

    from policyqa.api import create_app

    uvicorn.run(create_app(_settings()), host=host, port=port, log_level="info")


def _attach_plugin_commands(group: click.Group) -> None:
    """Attach the commands other packages register (``eval`` and ``bench`` come from ``evals``).

    They are found through the ``policyqa.commands`` entry-point group, so this shell never imports
    the packages built on top of it."""
    for entry in entry_points(group="policyqa.commands"):
        if entry.name not in group.commands:
            group.add_command(entry.load(), name=entry.name)


_attach_plugin_commands(main)


if __name__ == "__main__":
    main()
