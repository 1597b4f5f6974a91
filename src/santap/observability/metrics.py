"""Prometheus metrics, exposed at ``GET /metrics``.

The metric objects live in prometheus-client's default registry, created once at import, so
any number of apps in one process (tests) share them; they are never registered per app.

Each process counts for itself: with ``santap serve --workers N`` every worker answers
``/metrics`` with its own numbers (no prometheus multiprocess mode), so a scrape through the
shared port sees one worker at a time. Scrape workers separately, or run one worker per
instance. The DB-derived gauges are the same whichever worker answers."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "render"]

UNMATCHED_ROUTE = "unmatched"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "santap_http_requests",
    "HTTP requests answered, by route template (never the raw path).",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "santap_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
NOTIFICATIONS = Counter(
    "santap_notifications",
    "Midtrans notifications delivered to the webhook, by outcome.",
    ["outcome"],
)
GATEWAY_REQUESTS = Counter(
    "santap_gateway_requests",
    "HTTP calls to Midtrans (each retry counts), by operation and result "
    "(ok, error, unavailable, timeout).",
    ["operation", "result"],
)
GATEWAY_DURATION = Histogram(
    "santap_gateway_request_duration_seconds",
    "Time of one HTTP call to Midtrans, by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
PAYMENTS = Gauge(
    "santap_payments",
    "Payment attempts in the database, by status and method (computed at scrape time).",
    ["status", "method"],
)
INBOX_OLDEST_AGE = Gauge(
    "santap_inbox_oldest_unapplied_age_seconds",
    "Age of the oldest validly signed notification not applied yet, 0 when none (at scrape).",
)
APPLY_DELAY = Histogram(
    "santap_notification_apply_delay_seconds",
    "From a notification's acknowledgement to its application by the applier.",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
TASK_RESTARTS = Counter(
    "santap_background_task_restarts_total",
    "Background tasks (applier, listener, reconciler) restarted after a failure.",
    ["task"],
)
INBOX_UNAPPLIED = Gauge(
    "santap_inbox_unapplied",
    "Validly signed notifications stored but not applied yet (computed at scrape time).",
)
OPEN_STREAMS = Gauge(
    "santap_event_streams_open",
    "Server-Sent Event streams open in this process.",
)
STREAMS_DROPPED = Counter(
    "santap_event_streams_dropped",
    "Event streams closed because their client fell too far behind (it resumes).",
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    HTTP_DURATION.labels(method=method, route=route).observe(seconds)


def count_notification(outcome: str) -> None:
    NOTIFICATIONS.labels(outcome=outcome).inc()


def observe_gateway_call(operation: str, result: str, seconds: float) -> None:
    GATEWAY_REQUESTS.labels(operation=operation, result=result).inc()
    GATEWAY_DURATION.labels(operation=operation).observe(seconds)


def observe_applied(outcome: str, seconds: float) -> None:
    APPLY_DELAY.labels(outcome=outcome).observe(max(seconds, 0.0))


def count_task_restart(task: str) -> None:
    TASK_RESTARTS.labels(task=task).inc()


def stream_opened() -> None:
    OPEN_STREAMS.inc()


def stream_closed() -> None:
    OPEN_STREAMS.dec()


def count_stream_dropped() -> None:
    STREAMS_DROPPED.inc()


def set_db_gauges(
    payments: Iterable[tuple[str, str, int]], unapplied: int, oldest_age_s: float = 0.0
) -> None:
    # No await between clear and set: a concurrent scrape never sees the gauge half-filled.
    PAYMENTS.clear()
    for status, method, count in payments:
        PAYMENTS.labels(status=status, method=method).set(count)
    INBOX_UNAPPLIED.set(unapplied)
    INBOX_OLDEST_AGE.set(oldest_age_s)


def render() -> bytes:
    return _generate_latest(REGISTRY)
