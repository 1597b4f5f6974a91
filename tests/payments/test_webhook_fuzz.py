"""Hostile input on the webhook, which the OpenAPI fuzzing cannot reach (it is left out of
the document): whatever JSON arrives, signed or not, the answer is never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from santap.gateways.midtrans import compute_signature
from santap.main import SIMULATOR_SERVER_KEY
from tests.fixtures.payments import order_with_qris

WEBHOOK = "/api/v1/webhooks/midtrans"
FIELDS = [
    "order_id",
    "status_code",
    "gross_amount",
    "transaction_status",
    "signature_key",
    "fraud_status",
    "transaction_id",
    "refund_amount",
    "refunds",
]
# Surrogates and NUL included: JSON can carry them as escapes.
texts = st.text(st.characters() | st.characters(categories=["Cs", "Cc"]), max_size=30)
known = st.sampled_from(
    ["settlement", "capture", "pending", "refund", "partial_refund", "200", "201", "35000.00"]
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
values = st.one_of(
    scalars, known, st.lists(st.dictionaries(st.sampled_from(FIELDS) | texts, scalars | known))
)
words = texts | known
# Mostly well-formed enough to get past the first checks, so the deeper paths run too.
bodies = st.fixed_dictionaries(
    dict.fromkeys(FIELDS[:5], words),
    optional=dict.fromkeys(FIELDS[5:], values) | {"extra": values},
) | st.dictionaries(st.sampled_from(FIELDS) | texts, values, max_size=10)


@pytest.mark.parametrize(
    "settings_overrides", [{}, {"MIDTRANS_VERIFY_STATUS": False}], ids=["verify", "no-verify"]
)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, ours=st.booleans(), sign=st.booleans())
async def test_no_notification_makes_the_webhook_fail(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    body: dict[str, Any],
    ours: bool,
    sign: bool,
) -> None:
    if ours:  # aim at a real attempt, so the deeper paths run too
        _, payment = await order_with_qris(client, demo_menu)
        body["order_id"] = payment["order_uid"]
    signed = [body.get(k) for k in ("order_id", "status_code", "gross_amount")]
    if sign and all(isinstance(v, str) and v.isascii() for v in signed):
        order_id, status_code, gross_amount = map(str, signed)
        body["signature_key"] = compute_signature(
            order_id, status_code, gross_amount, SIMULATOR_SERVER_KEY
        )
    raw = json.dumps(body).encode()  # ASCII: surrogates and NUL travel as escapes
    response = await client.post(WEBHOOK, content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, (response.status_code, response.text, body)
    assert response.is_success or "error" in response.json()
