"""Observability for the engineer on call: JSON logs with request ids, Prometheus metrics."""
