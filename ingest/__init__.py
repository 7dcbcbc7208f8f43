"""PDF ingestion: files become pages, pages become chunks, chunks go into the index."""
