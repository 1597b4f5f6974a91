"""Browsers may call the API from the web apps named in ``SANTAP_CORS_ORIGINS``, and from no
other origin. Starlette's middleware answers the preflight; nothing is allowed by default."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from santap.config import Settings

# The API's own headers a front end sends: the staff bearer token, the customer's order token,
# and the resume point of an event stream.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-Order-Token", "Last-Event-ID"]
ALLOWED_METHODS = ["GET", "POST", "PATCH", "DELETE"]


def install_cors(app: FastAPI, settings: Settings) -> None:
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        # Tokens travel in headers, not cookies: the staff cookie stays on Santap's own pages.
        allow_credentials=False,
        expose_headers=["Retry-After", "X-Request-ID"],
        max_age=600,
    )
