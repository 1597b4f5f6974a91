from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from santap.timestamps import Timestamp


class MethodTotals(BaseModel):
    cash: int = 0
    qris: int = 0

    @property
    def total(self) -> int:
        return self.cash + self.qris


class TopItem(BaseModel):
    menu_item_id: int
    name: str
    quantity: int
    revenue: int


class HourlySales(BaseModel):
    hour: int  # 0-23 on the restaurant's clock: 14 is 14:00-14:59 WIB
    payments: int
    amount: int


class DailyReport(BaseModel):
    date: date
    timezone: str
    period_start: Timestamp
    period_end: Timestamp
    orders_placed: int
    orders_paid: int  # the CSV's summary row of the same name
    gross: MethodTotals
    gross_total: int
    refunds: MethodTotals
    refunds_total: int
    net: int
    top_items: list[TopItem]
    hourly: list[HourlySales]  # all 24 hours; their amounts add up to gross_total
