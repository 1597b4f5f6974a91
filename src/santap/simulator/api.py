"""The Midtrans HTTP surface: same paths, auth and bodies as the real Snap and Core APIs."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from santap.simulator.qr import qr_png
from santap.simulator.state import SimulatorError

if TYPE_CHECKING:
    from santap.simulator.engine import Simulator

Flavor = Literal["snap", "core"]
Handler = Callable[["Simulator", Request], Awaitable[Response]]

SNAP_401 = {
    "error_messages": [
        "Access denied due to unauthorized transaction, please check client or server key",
        "Visit https://snap-docs.midtrans.com/#request-headers for more details",
    ]
}
CORE_401 = {
    "status_code": "401",
    "status_message": "Transaction cannot be authorized with the current client/server key.",
}
SERVER_ERROR = "Sorry, we encountered internal server error. We will fix this soon."
IDEMPOTENCY_KEY_MAX = 46  # longer keys are ignored by Midtrans (midtrans.md §1)


def error_response(flavor: Flavor, status: int, message: str, validation: list[str]) -> Response:
    if flavor == "snap":
        return JSONResponse({"error_messages": [message]}, status_code=status)
    body: dict[str, Any] = {
        "status_code": str(status),
        "status_message": message,
        "id": str(uuid.uuid4()),
    }
    if validation:
        body["validation_messages"] = validation
    return JSONResponse(body, status_code=status)


def guarded(
    sim: Simulator, flavor: Flavor, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Apply latency, auth and injected errors the way a flaky Midtrans would."""

    async def endpoint(request: Request) -> Response:
        if sim.faults.latency_s > 0:
            await asyncio.sleep(sim.faults.latency_s)
        if not sim.is_authorized(request.headers.get("authorization")):
            return JSONResponse(SNAP_401 if flavor == "snap" else CORE_401, status_code=401)
        if sim.faults.roll(sim.faults.error_rate):
            return error_response(flavor, 500, SERVER_ERROR, [])
        try:
            return await handler(sim, request)
        except SimulatorError as exc:
            return error_response(flavor, exc.status, exc.message, exc.validation)

    return endpoint


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise SimulatorError(400, "Request body is not valid JSON") from None
    except RecursionError:
        # json's C parser gives up on deep nesting (about 1,000 levels) this way.
        raise SimulatorError(400, "Request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise SimulatorError(400, "Request body must be a JSON object")
    return body


def _notification_headers(request: Request) -> tuple[list[str] | None, list[str] | None]:
    """X-Override-Notification / X-Append-Notification, at most 3 URLs each."""

    def split(name: str) -> list[str] | None:
        value = request.headers.get(name)
        if value is None:
            return None
        return [url.strip() for url in value.split(",") if url.strip()][:3]

    return split("x-override-notification"), split("x-append-notification")


async def snap_create(sim: Simulator, request: Request) -> Response:
    override, append = _notification_headers(request)
    tx = sim.create_snap(await _json_body(request), override=override, append=append)
    redirect_url = f"{sim.public_base_url}/snap/v3/redirection/{tx.token}"
    return JSONResponse({"token": tx.token, "redirect_url": redirect_url}, status_code=201)


async def charge(sim: Simulator, request: Request) -> Response:
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        key = None
    override, append = _notification_headers(request)
    body = await _json_body(request)
    answer = sim.charge(body, idempotency_key=key, override=override, append=append)
    return JSONResponse(answer)


async def status(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.status(request.path_params["transaction"]))


async def cancel(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.cancel(request.path_params["transaction"]))


async def expire(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.expire(request.path_params["transaction"]))


async def refund(sim: Simulator, request: Request) -> Response:
    body = await _json_body(request)
    return JSONResponse(sim.refund(request.path_params["transaction"], body))


def qr_code(sim: Simulator, *, framed: bool) -> Callable[[Request], Awaitable[Response]]:
    """PNG of the QR; unauthenticated like Midtrans' hot-linkable image URLs."""

    async def endpoint(request: Request) -> Response:
        try:
            tx = sim.find_core(request.path_params["transaction"])
        except SimulatorError:
            return Response("QR code not found", status_code=404, media_type="text/plain")
        png = qr_png(tx.qr_string or "", border=4 if framed else 0)
        return Response(png, media_type="image/png")

    return endpoint


def snap_redirect(sim: Simulator) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        tx = sim.by_token(request.path_params["token"])
        if tx is None:
            return Response("Unknown Snap token", status_code=404, media_type="text/plain")
        return RedirectResponse(f"{sim.public_base_url}/pay/{tx.order_id}", status_code=303)

    return endpoint


def api_routes(sim: Simulator) -> list[Route]:
    def core(path: str, handler: Handler, method: str = "POST") -> Route:
        return Route(path, guarded(sim, "core", handler), methods=[method])

    return [
        Route("/snap/v1/transactions", guarded(sim, "snap", snap_create), methods=["POST"]),
        Route("/snap/v3/redirection/{token}", snap_redirect(sim), methods=["GET"]),
        core("/v2/charge", charge),
        Route("/v2/qris/{transaction}/qr-code", qr_code(sim, framed=False), methods=["GET"]),
        Route("/v4/qris/{transaction}/qr-code", qr_code(sim, framed=True), methods=["GET"]),
        core("/v2/{transaction}/status", status, "GET"),
        core("/v2/{transaction}/cancel", cancel),
        core("/v2/{transaction}/expire", expire),
        core("/v2/{transaction}/refund", refund),
    ]
