"""Retrieval, the extractive composer and the answering service (``PolicyQA``)."""
