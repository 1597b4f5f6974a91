"""All ORM models, imported here so Alembic and the mappers see every table."""

from santap.models.audit import AuditLog
from santap.models.base import Base
from santap.models.event import OrderEvent
from santap.models.menu import MenuCategory, MenuItem
from santap.models.order import Order, OrderItem, OrderStatus, OrderStatusHistory
from santap.models.payment import (
    Notification,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PaymentStatusHistory,
    Refund,
    RejectedNotification,
)
from santap.models.staff import Staff, StaffRole

__all__ = [
    "AuditLog",
    "Base",
    "MenuCategory",
    "MenuItem",
    "Notification",
    "Order",
    "OrderItem",
    "OrderEvent",
    "OrderStatus",
    "OrderStatusHistory",
    "Staff",
    "StaffRole",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "PaymentStatusHistory",
    "Refund",
    "RejectedNotification",
]
