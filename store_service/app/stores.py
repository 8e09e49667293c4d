"""Store accounts: sign-up, login, profile, password check and change."""
from __future__ import annotations

import datetime
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesync_common.contracts.stores import PasswordChange
from salesync_common.errors import ApiError, Conflict, Forbidden, Unauthorized
from salesync_common.tokens import SessionEnded, ended_by_password_change
from salesync_common.unit_of_work import UnitOfWork

from . import login_throttle
from .models import DEFAULT_TIME_ZONE, PasswordProof, Store
from .passwords import hash_password, password_matches
from .schemas import SignUp, StoreUpdate


class InvalidCredentials(ApiError):
    status = 400
    error = "invalid_credentials"


def public_profile(store: Store) -> dict:
    return {
        "store_id": store.store_id,
        "username": store.username,
        "owner_name": store.owner_name,
        "phone": store.phone,
        "store_name": store.store_name,
        "address": store.address,
        "store_type": store.store_type,
        "time_zone": store.time_zone,
    }


def new_csrf_token() -> str:
    # The frontend echoes it as X-CSRF-Token; it is accepted and never required (API.md Decision 2).
    return secrets.token_urlsafe(24)


def username_taken(*, session: Session, username: str) -> bool:
    return session.scalar(select(func.count()).select_from(Store).where(Store.username == username)) > 0


class PasswordCheckRequired(Forbidden):
    error = "password_check_required"


def sign_up(*, session: Session, form: SignUp, bcrypt_rounds: int, address: str,
            limits: login_throttle.Limits) -> Store:
    login_throttle.record_sign_up(session=session, address=address, limits=limits)
    if username_taken(session=session, username=form.username):
        raise Conflict("이미 존재하는 아이디입니다.", error="username_taken", field="username")
    store = Store(
        username=form.username,
        password_hash=hash_password(form.password, rounds=bcrypt_rounds),
        owner_name=form.owner_name,
        phone=form.phone,
        store_name=form.store_name,
        address=form.address,
        store_type=form.store_type,
        time_zone=form.time_zone or DEFAULT_TIME_ZONE,
    )
    session.add(store)
    try:
        session.flush()
    except IntegrityError:
        # Two sign-ups raced for one username; the unique constraint picked the winner.
        raise Conflict("이미 존재하는 아이디입니다.", error="username_taken", field="username") from None
    return store


def log_in(*, unit: UnitOfWork, username: str, password: str, address: str, bcrypt_rounds: int,
           limits: login_throttle.Limits) -> Store:
    session = unit.session
    login_throttle.reserve_login(unit=unit, username=username, address=address, limits=limits)
    store = session.scalar(select(Store).where(Store.username == username))
    if not password_matches(password, store.password_hash if store else None, rounds=bcrypt_rounds):
        # The attempt's failure was recorded (and committed) before the comparison.
        raise InvalidCredentials("Invalid username or password")
    login_throttle.login_succeeded(session=session, username=username, address=address)
    return store


def get_store(*, session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        # A valid token for a store that no longer exists.
        raise Unauthorized("this store no longer exists", error="unknown_store")
    return store


def password_is_correct(*, unit: UnitOfWork, store_id: int, password: str, address: str, bcrypt_rounds: int,
                        limits: login_throttle.Limits, token_id: str) -> bool:
    """A right answer also lets this token (its jti) change the password once, within the change window."""
    store = get_store(session=unit.session, store_id=store_id)
    login_throttle.reserve_password_check(unit=unit, store_id=store_id, address=address, limits=limits)
    if not password_matches(password, store.password_hash, rounds=bcrypt_rounds):
        return False
    login_throttle.password_check_succeeded(session=unit.session, store_id=store_id, address=address)
    if token_id:
        unit.session.execute(insert(PasswordProof).values(token_id=token_id, store_id=store_id).on_conflict_do_update(
            index_elements=[PasswordProof.token_id], set_={"store_id": store_id, "proved_at": func.now()}))
    return True


def _spend_password_proof(*, session: Session, store_id: int, token_id: str, window: datetime.timedelta) -> None:
    """403 unless this token answered the password check within the window; the proof is used up either way,
    and the store's other proofs with it (the change ends their tokens)."""
    spent = session.scalar(
        delete(PasswordProof)
        .where(PasswordProof.token_id == token_id, PasswordProof.store_id == store_id,
               PasswordProof.proved_at > func.now() - window)
        .returning(PasswordProof.token_id)) if token_id else None
    if spent is None:
        raise PasswordCheckRequired("비밀번호를 바꾸려면 먼저 현재 비밀번호를 확인하세요.")
    session.execute(delete(PasswordProof).where(PasswordProof.store_id == store_id))


def password_change(store: Store) -> PasswordChange:
    changed_at = store.password_changed_at.timestamp() if store.password_changed_by is not None else None
    return PasswordChange(store_id=store.store_id, changed_at=changed_at, changed_by=store.password_changed_by)


def current_session_store(*, session: Session, store_id: int, claims: dict) -> Store:
    """The token's store; a token the store's last password change ended answers 401."""
    store = get_store(session=session, store_id=store_id)
    change = password_change(store)
    if ended_by_password_change(claims, changed_at=change.changed_at, changed_by=change.changed_by):
        raise SessionEnded()
    return store


def update_store(*, session: Session, caller_store_id: int, store_id: int, changes: StoreUpdate,
                 bcrypt_rounds: int, caller_token_id: str, password_check_window: datetime.timedelta) -> Store:
    store = get_store(session=session, store_id=caller_store_id)
    if store_id != caller_store_id:
        raise Forbidden("a store can change only its own account", error="not_your_store")
    if changes.password is not None:
        _spend_password_proof(session=session, store_id=store.store_id, token_id=caller_token_id,
                              window=password_check_window)
        store.password_hash = hash_password(changes.password, rounds=bcrypt_rounds)
        # This process's clock, as the tokens' iat: every other token issued before now is ended.
        store.password_changed_at = datetime.datetime.now(datetime.UTC)
        store.password_changed_by = caller_token_id
    if changes.time_zone is not None:
        store.time_zone = changes.time_zone
    session.flush()
    return store
