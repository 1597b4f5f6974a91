"""How the pages write money and time, as Indonesians read them."""

from __future__ import annotations

from datetime import UTC, datetime

from santap.web.render import local_time, rupiah


def test_rupiah_groups_thousands_with_dots_and_no_decimals() -> None:
    assert rupiah(35000) == "Rp35.000"
    assert rupiah(5000) == "Rp5.000"
    assert rupiah(1250000) == "Rp1.250.000"
    assert rupiah(900) == "Rp900"


def test_times_are_shown_on_the_restaurants_clock() -> None:
    assert local_time(datetime(2026, 12, 1, 12, 14, tzinfo=UTC)) == "19:14"
