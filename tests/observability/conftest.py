from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from santap.observability.logging import (
    RequestIdFilter,
    apply_third_party_floors,
    json_formatter,
)


@dataclass
class CapturedLogs:
    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Every line, parsed: a line that is not a JSON object fails the test."""
        parsed = [json.loads(line) for line in self.text.splitlines()]
        assert all(isinstance(item, dict) for item in parsed)
        return parsed


@pytest.fixture
def json_logs() -> Iterator[CapturedLogs]:
    """Everything logged at DEBUG and up, as the JSON formatter writes it.

    Deliberately without the redaction filter: the tests prove the code logs no secrets, not
    that the safety net catches them. Third-party floors are the production ones."""
    captured = CapturedLogs()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    apply_third_party_floors(logging.DEBUG)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
