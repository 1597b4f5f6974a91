from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from santap.gateways.midtrans import compute_signature, verify_signature

KEY = "SB-Mid-server-EXAMPLEKEY123"
# midtrans.md §5.3, computed with python3 hashlib.
VECTORS = {
    "200": "db4beaca08392cc159e397c96e60ff3806a310ec316b934d33cf7edbe338631944094bd0bfbea2b024c1964b25b98bbb54735c94ffcd76863e33e7920ee9c88a",  # noqa: E501
    "201": "e06670b4e43f9a580dfad49f1d91c09c0728d91485f2f3697308ee77b14ec925d01f4a734c1e0fa9f8fc91ccb626a584495b5791391d1ad212d4e5931bf64828",  # noqa: E501
    "202": "109966c624aaa6e6c6e0f96f509f2b6a6237c3ab4f0e060f506fc884f4394f01ebf94339b6c6f23b87aa9ebdc509c814c8e83afa20a61246ab70c39817d036ee",  # noqa: E501
}


def _notification(status_code: str, gross: str = "10000.00") -> dict[str, object]:
    return {
        "order_id": "ORDER-101",
        "status_code": status_code,
        "gross_amount": gross,
        "signature_key": VECTORS[status_code],
        "transaction_status": "settlement",
    }


@pytest.mark.parametrize(("status_code", "expected"), sorted(VECTORS.items()))
def test_documented_vectors(status_code: str, expected: str) -> None:
    assert compute_signature("ORDER-101", status_code, "10000.00", KEY) == expected
    assert verify_signature(_notification(status_code), KEY)


def test_amount_without_decimals_does_not_match() -> None:
    assert compute_signature("ORDER-101", "200", "10000", KEY).startswith("6d8e59af")
    assert not verify_signature(_notification("200", gross="10000"), KEY)


def test_other_key_or_status_does_not_match() -> None:
    assert not verify_signature(_notification("200"), KEY + "x")
    assert not verify_signature({**_notification("200"), "status_code": "201"}, KEY)


@pytest.mark.parametrize("missing", ["order_id", "status_code", "gross_amount", "signature_key"])
def test_missing_field_is_rejected(missing: str) -> None:
    notification = _notification("200")
    del notification[missing]
    assert not verify_signature(notification, KEY)


@pytest.mark.parametrize(
    ("field", "value"),
    [("gross_amount", 10000.0), ("status_code", 200), ("signature_key", None), ("order_id", ["x"])],
)
def test_non_string_field_is_rejected(field: str, value: object) -> None:
    assert not verify_signature({**_notification("200"), field: value}, KEY)


def test_non_ascii_signature_is_rejected_without_error() -> None:
    assert not verify_signature({**_notification("200"), "signature_key": "é" * 128}, KEY)


@given(
    order_id=st.text(min_size=1, max_size=50),
    status_code=st.sampled_from(["200", "201", "202", "407"]),
    gross=st.integers(min_value=1, max_value=10_000_000).map(lambda n: f"{n}.00"),
)
def test_round_trip_and_tamper(order_id: str, status_code: str, gross: str) -> None:
    signed = {
        "order_id": order_id,
        "status_code": status_code,
        "gross_amount": gross,
        "signature_key": compute_signature(order_id, status_code, gross, KEY),
    }
    assert verify_signature(signed, KEY)
    assert not verify_signature({**signed, "gross_amount": gross + "1"}, KEY)
