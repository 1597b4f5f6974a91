"""All ORM models, imported here so Alembic and the mappers see every table."""

from santap.models.base import Base
from santap.models.menu import MenuCategory, MenuItem
from santap.models.order import Order, OrderItem, OrderStatus, OrderStatusHistory

__all__ = [
    "Base",
    "MenuCategory",
    "MenuItem",
    "Order",
    "OrderItem",
    "OrderStatus",
    "OrderStatusHistory",
]
