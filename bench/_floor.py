"""The least work any correct webhook must do, as a second baseline for ``webhook.py``.

One FastAPI POST route under the same uvicorn settings: parse the JSON body, check the
signature, ask the simulator for the transaction's status through Santap's own
``MidtransClient``, and store the body durably with one autocommitted ``INSERT`` through a
SQLAlchemy Core connection (one PostgreSQL round trip, no ORM). No state machine, no row
locks, no history: it is not a webhook anyone should run, only the floor under one.

Configured by the environment: ``FLOOR_DATABASE_URL`` (asyncpg URL), ``FLOOR_SIMULATOR_URL``
and ``FLOOR_SERVER_KEY``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from santap.gateways.midtrans import MidtransClient, verify_signature

CREATE = """CREATE TABLE IF NOT EXISTS floor_inbox (
    id bigserial PRIMARY KEY,
    dedupe_key text NOT NULL UNIQUE,
    body text NOT NULL,
    transaction_status text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
)"""
INSERT = text(
    "INSERT INTO floor_inbox (dedupe_key, body, transaction_status) VALUES (:key, :body, :status)"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)


def create_floor_app() -> Any:
    # A pooled connection per sender: opening connections is not part of the floor.
    engine = create_async_engine(
        os.environ["FLOOR_DATABASE_URL"], isolation_level="AUTOCOMMIT", pool_size=32
    )
    server_key = os.environ["FLOOR_SERVER_KEY"]
    simulator = os.environ["FLOOR_SIMULATOR_URL"]
    client = MidtransClient(server_key=server_key, snap_base_url=simulator, core_base_url=simulator)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.connect() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS floor_inbox"))
            await connection.execute(text(CREATE))
        yield
        await client.aclose()
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/floor")
    async def floor(request: Request) -> JSONResponse:
        raw = await request.body()
        body = json.loads(raw)
        if not verify_signature(body, server_key):
            return JSONResponse({"status": "invalid_signature"}, status_code=401)
        status = await client.get_status(body["order_id"])
        async with engine.connect() as connection:
            await connection.execute(
                INSERT,
                {
                    "key": body["signature_key"],
                    "body": raw.decode(),
                    "status": status.transaction_status,
                },
            )
        return JSONResponse({"status": status.transaction_status})

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {}

    return app
