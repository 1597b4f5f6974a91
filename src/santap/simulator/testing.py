"""Helpers for tests that drive the simulator: a merchant endpoint that records notifications."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class NotificationRecorder:
    """ASGI app that stores each JSON POST to ``/notify`` and answers scripted statuses.

    ``answers`` is consumed front to back; once empty every delivery gets 200.
    """

    def __init__(self, answers: list[int] | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = list(answers or [])
        self.app = Starlette(routes=[Route("/notify", self._notify, methods=["POST"])])

    async def _notify(self, request: Request) -> Response:
        self.received.append(json.loads(await request.body()))
        return Response(status_code=self.answers.pop(0) if self.answers else 200)

    def statuses(self) -> list[str]:
        return [str(notification["transaction_status"]) for notification in self.received]
