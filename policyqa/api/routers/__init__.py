"""The /v1 routers and the health probes."""
