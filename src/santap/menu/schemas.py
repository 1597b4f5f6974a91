from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from santap.models.base import MAX_ID, NO_NUL
from santap.timestamps import Timestamp


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


MAX_PRICE = 100_000_000
Price = Annotated[StrictInt, Field(gt=0, le=MAX_PRICE)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=NO_NUL)
]
Position = Annotated[StrictInt, Field(ge=0, le=10_000)]
CategoryId = Annotated[StrictInt, Field(gt=0, le=MAX_ID)]


class _Patch(BaseModel):
    """A partial update: absent fields stay as they are; an explicit null is refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"may not be null: {', '.join(nulls)}")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class MenuCategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    position: Position = 0
    is_active: StrictBool = True


class MenuCategoryUpdate(_Patch):
    name: Name | None = None
    position: Position | None = None
    is_active: StrictBool | None = None


class MenuCategoryAdminRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp


class MenuItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_id: CategoryId
    name: Name
    description: Description = ""
    price: Price
    is_available: StrictBool = True


class MenuItemUpdate(_Patch):
    category_id: CategoryId | None = None
    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    is_available: StrictBool | None = None
    is_retired: StrictBool | None = None


class MenuItemAdminRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    category_id: int
    name: str
    description: str
    price: int
    is_available: bool
    is_retired: bool
    created_at: Timestamp
    updated_at: Timestamp


class MenuCategoryAdminView(BaseModel):
    category: MenuCategoryAdminRead
    items: list[MenuItemAdminRead]
