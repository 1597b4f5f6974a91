"""Clients for outside payment systems; each knows nothing about orders."""
