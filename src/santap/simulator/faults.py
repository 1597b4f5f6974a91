"""Fault knobs: mutable at runtime, deterministic when seeded."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

_RATES = ("error_rate", "duplicate_rate", "reorder_rate", "drop_rate")


@dataclass
class Faults:
    latency_s: float = 0.0
    error_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()
        if self.seed is not None:
            self.rng.seed(self.seed)

    def roll(self, rate: float) -> bool:
        # Rolling only for non-zero rates keeps a seeded sequence stable when other knobs change.
        return rate > 0 and self.rng.random() < rate

    def validate(self) -> None:
        if self.latency_s < 0:
            raise ValueError("latency_s must be >= 0")
        for name in _RATES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a JSON patch from ``POST /_control/faults``; unknown keys are an error."""
        known = {f.name for f in fields(self)} - {"rng"}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault knobs: {sorted(unknown)}")
        previous = self.as_dict()
        for name, value in changes.items():
            if name == "seed":
                if value is not None and (type(value) is not int):
                    raise ValueError("seed must be an integer or null")
            elif type(value) not in (int, float):
                raise ValueError(f"{name} must be a number")
            setattr(self, name, value)
        try:
            self.validate()
        except ValueError:
            for name, value in previous.items():
                setattr(self, name, value)
            raise
        if "seed" in changes and self.seed is not None:
            self.rng.seed(self.seed)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rng"}
