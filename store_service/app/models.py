"""Tables of the store schema."""
from __future__ import annotations

import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from salesync_common.database import make_database

db = make_database("store")

DEFAULT_TIME_ZONE = "Asia/Seoul"


class Store(db.Model):
    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint("username ~ '^[A-Za-z0-9]{8,16}$'", name="username_format"),
        CheckConstraint("phone ~ '^[0-9]{11}$'", name="phone_11_digits"),
        CheckConstraint("char_length(store_name) BETWEEN 1 AND 100", name="store_name_length"),
        CheckConstraint("char_length(address) BETWEEN 1 AND 200", name="address_length"),
    )

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(100), nullable=False)
    owner_name: Mapped[str] = mapped_column(String(20), nullable=False)
    phone: Mapped[str] = mapped_column(String(11), nullable=False)
    store_name: Mapped[str] = mapped_column(String(100), nullable=False)
    address: Mapped[str] = mapped_column(String(200), nullable=False)
    store_type: Mapped[str] = mapped_column(String(20), nullable=False)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, server_default=DEFAULT_TIME_ZONE)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    password_changed_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    # The jti of the token that last changed the password (it stays valid); NULL: never changed.
    password_changed_by: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(db.Model):
    """One failed login for a username from a client address; the throttle counts recent rows."""
    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_failed_at", "username", "failed_at"),
        Index("ix_login_failures_address_failed_at", "address", "failed_at"),
        Index("ix_login_failures_failed_at", "failed_at"),  # the purge's: rows past the window
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False, server_default="")
    failed_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class PasswordCheckFailure(db.Model):
    """One wrong answer to POST /stores/pwcheck for a store from a client address."""
    __tablename__ = "password_check_failures"
    __table_args__ = (Index("ix_password_check_failures_store_address", "store_id", "address", "failed_at"),
                      Index("ix_password_check_failures_failed_at", "failed_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    failed_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class PasswordProof(db.Model):
    """A token (its jti) answered POST /stores/pwcheck rightly: for a while it may change the password, once."""
    __tablename__ = "password_proofs"
    __table_args__ = (Index("ix_password_proofs_store_id", "store_id"),
                      Index("ix_password_proofs_proved_at", "proved_at"))

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer, nullable=False)
    proved_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class SignUpRecord(db.Model):
    """One successful sign-up from a client address; the sign-up limit counts recent rows."""
    __tablename__ = "sign_ups"
    __table_args__ = (Index("ix_sign_ups_address_signed_up_at", "address", "signed_up_at"),
                      Index("ix_sign_ups_signed_up_at", "signed_up_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    signed_up_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
