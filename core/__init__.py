"""Foundations of policyqa: settings, Japanese text, tokenizer, embedders, the index, typed errors.

Nothing here imports from the packages above it (ingest, rag, ui, policyqa, evals)."""
