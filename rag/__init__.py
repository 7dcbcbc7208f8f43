"""Retrieval, answering and the service shells (CLI, HTTP API) of policyqa."""
