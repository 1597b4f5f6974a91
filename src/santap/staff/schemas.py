from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from santap.models import StaffRole
from santap.models.base import NO_NUL

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=3,
        max_length=50,
        pattern=r"^[A-Za-z0-9._-]+$",
    ),
]
MIN_PASSWORD_LENGTH = 8
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=1024)]


class LoginRequest(BaseModel):
    # Loose limits: anything malformed is just a failed login with the usual message.
    username: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
    password: Annotated[str, StringConstraints(max_length=1024)]


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: StaffRole
    expires_in: int


class StaffCreate(BaseModel):
    username: Username
    password: Password
    role: StaffRole


class StaffPasswordReset(BaseModel):
    password: Password
