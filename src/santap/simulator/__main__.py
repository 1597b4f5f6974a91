"""``python -m santap.simulator``: the standalone simulator without the Santap CLI."""

from __future__ import annotations

import argparse

from santap.simulator.app import run_standalone


def main() -> None:
    parser = argparse.ArgumentParser(description="Offline Midtrans simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--notify-url", default=None, help="webhook URL; up to 3 comma-separated URLs"
    )
    parser.add_argument("--server-key", required=True)
    parser.add_argument("--public-base-url", default=None)
    parser.add_argument("--time-factor", type=float, default=1.0)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    run_standalone(
        args.host,
        args.port,
        args.notify_url,
        args.server_key,
        public_base_url=args.public_base_url,
        time_factor=args.time_factor,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
