"""Browser pages standing in for the payer's app, and the JSON control endpoints."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from santap.gateways.midtrans.schemas import format_rupiah
from santap.simulator.qr import qr_svg
from santap.simulator.state import SimTransaction, SimulatorError, wib

if TYPE_CHECKING:
    from santap.simulator.engine import Simulator

Endpoint = Callable[[Request], Awaitable[Response]]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>QRIS {order_id} - Santap simulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto}}
form{{display:inline}}button{{margin:.3rem;padding:.5rem 1rem}}.error{{color:#b00}}</style>
</head><body>
<h1>Midtrans simulator</h1>
<p class="error">{error}</p>
<dl><dt>Order</dt><dd id="order-id">{order_id}</dd>
<dt>Amount</dt><dd>Rp {amount}</dd>
<dt>Status</dt><dd id="status">{status}</dd>
<dt>Expires</dt><dd>{expiry} WIB</dd></dl>
<div id="qr">{qr}</div>
{buttons}
</body></html>
"""


def _render(sim: Simulator, tx: SimTransaction, error: str) -> str:
    base = f"{sim.public_base_url}/pay/{quote(tx.order_id, safe='')}"
    buttons = "".join(
        f'<form method="post" action="{escape(base)}/{action}">'
        f'<button type="submit">{label}</button></form>'
        for action, label in (("pay", "Pay"), ("expire", "Expire"), ("cancel", "Cancel"))
    )
    waiting = tx.status is None
    return _PAGE.format(
        order_id=escape(tx.order_id),
        amount=escape(format_rupiah(tx.gross_amount)),
        status=escape(tx.status or "waiting for the payer to choose QRIS"),
        expiry=escape(wib(tx.expiry_time) or "-"),
        qr=qr_svg(tx.qr_string) if tx.qr_string else _no_qr(waiting),
        buttons=buttons if waiting or tx.status == "pending" else "",
        error=escape(error),
    )


def _no_qr(waiting: bool) -> str:
    # Closed before the payer chose a method: there never was a QR.
    return "<p>Press Pay to choose QRIS.</p>" if waiting else ""


def pay_page(sim: Simulator) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        tx = sim.transactions.get(request.path_params["order_id"])
        if tx is None:
            return HTMLResponse("<h1>Unknown order</h1>", status_code=404)
        if tx.status is not None:
            sim.find_core(tx.order_id)  # applies a due expiry before showing the status
        return HTMLResponse(_render(sim, tx, request.query_params.get("error", "")))

    return endpoint


def pay_action(sim: Simulator) -> Endpoint:
    actions = {
        "pay": sim.pay,
        "expire": sim.expire_transaction,
        "cancel": sim.cancel_transaction,
    }

    async def endpoint(request: Request) -> Response:
        order_id, action = request.path_params["order_id"], request.path_params["action"]
        if action not in actions or order_id not in sim.transactions:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        target = f"{sim.public_base_url}/pay/{quote(order_id, safe='')}"
        try:
            await actions[action](order_id)
        except SimulatorError as exc:
            target += "?" + urlencode({"error": exc.message})
        # 303 so that a browser refresh does not repeat the POST.
        return RedirectResponse(target, status_code=303)

    return endpoint


def control_faults(sim: Simulator) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes: Any = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("body must be a JSON object")
                sim.faults.update(changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except RecursionError:  # json's C parser on deep nesting (about 1,000 levels)
                return JSONResponse({"error": "body is nested too deeply"}, status_code=400)
        return JSONResponse(sim.faults.as_dict())

    return endpoint


def control_transactions(sim: Simulator) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "order_id": tx.order_id,
                    "kind": tx.kind,
                    "transaction_id": tx.transaction_id,
                    "transaction_status": tx.status,
                    "gross_amount": tx.gross_amount,
                }
                for tx in sim.transactions.values()
            ]
        )

    return endpoint


def control_deliveries(sim: Simulator) -> Endpoint:
    """The notifier's log; ``?log=0`` gives only the counts (cheap enough to poll)."""

    async def endpoint(request: Request) -> Response:
        notifier = sim.notifier
        body: dict[str, Any] = {"in_flight": notifier.in_flight, "counts": dict(notifier.counts)}
        if request.query_params.get("log", "1") != "0":
            body["deliveries"] = [
                {
                    "url": d.url,
                    "order_id": d.order_id,
                    "transaction_status": d.transaction_status,
                    "attempt": d.attempt,
                    "outcome": d.outcome,
                    "http_status": d.http_status,
                    "error": d.error,
                }
                for d in notifier.deliveries
            ]
        return JSONResponse(body)

    return endpoint


def page_routes(sim: Simulator) -> list[Route]:
    return [
        Route("/pay/{order_id}", pay_page(sim), methods=["GET"]),
        Route("/pay/{order_id}/{action}", pay_action(sim), methods=["POST"]),
        Route("/_control/faults", control_faults(sim), methods=["GET", "POST"]),
        Route("/_control/transactions", control_transactions(sim), methods=["GET"]),
        Route("/_control/deliveries", control_deliveries(sim), methods=["GET"]),
    ]
