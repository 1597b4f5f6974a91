"""An offline Midtrans: the Snap and Core QRIS APIs, a payer page, and signed notifications."""

from santap.simulator.app import create_simulator, run_standalone
from santap.simulator.engine import Simulator
from santap.simulator.faults import Faults
from santap.simulator.notifier import Delivery
from santap.simulator.state import SimTransaction, SimulatorError

__all__ = [
    "Delivery",
    "Faults",
    "SimTransaction",
    "Simulator",
    "SimulatorError",
    "create_simulator",
    "run_standalone",
]
