"""Santap: restaurant ordering with QRIS (Midtrans) and cash payments."""

__version__ = "0.1.0"
