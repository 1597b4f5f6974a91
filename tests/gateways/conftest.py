"""Gateway tests run against the simulator: see tests/fixtures/midtrans.py."""

from tests.fixtures.midtrans import SERVER_KEY, client, receiver, server_key, sim

__all__ = ["SERVER_KEY", "client", "receiver", "server_key", "sim"]
