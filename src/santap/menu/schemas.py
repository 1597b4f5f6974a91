from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MenuItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    price: int
    is_available: bool


class MenuCategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    items: list[MenuItemRead]


class MenuRead(BaseModel):
    categories: list[MenuCategoryRead]
