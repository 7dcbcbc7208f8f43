"""The shells of policyqa: the ``policyqa`` command and the HTTP API, thin layers over ``rag.service``."""
