"""Public store routes (API.md §2): parse, call one function, answer JSON."""
from __future__ import annotations

import datetime
import functools

from flask import Blueprint, current_app, g, jsonify

from salesync_common.request_body import parse_body, parse_query
from salesync_common.service_auth import client_address
from salesync_common.tokens import issue_token, login_required
from salesync_common.unit_of_work import current_unit, unit_of_work

from .. import stores
from ..login_throttle import Limits
from ..models import db
from ..schemas import Login, PasswordCheck, SignUp, StoreUpdate, UsernameQuery

bp = Blueprint("stores", __name__, url_prefix="/stores")


def _settings():
    return current_app.extensions["salesync_settings"]


def _token_id() -> str:
    """The caller's token's jti ("" for a token without one, which can then never prove the password)."""
    return str(g.token_claims.get("jti") or "")[:64]


def _token_for(store_id: int) -> str:
    settings = _settings()
    return issue_token(store_id=store_id, secret=settings.jwt_secret, ttl_seconds=settings.jwt_ttl_seconds)


@bp.post("/")
@unit_of_work(db)
def sign_up():
    form = parse_body(SignUp)
    store = stores.sign_up(session=db.session, form=form, bcrypt_rounds=_settings().bcrypt_rounds,
                           address=client_address(), limits=Limits.from_settings(_settings()))
    return jsonify(
        result="success", message="매장 등록 성공", store_id=store.store_id,
        token={"access_token": _token_for(store.store_id), "csrf_token": stores.new_csrf_token()},
    ), 201


@bp.post("/login")
@unit_of_work(db)
def log_in():
    form = parse_body(Login)
    store = stores.log_in(unit=current_unit(), username=form.username, password=form.password,
                          address=client_address(), bcrypt_rounds=_settings().bcrypt_rounds,
                          limits=Limits.from_settings(_settings()))
    return jsonify(result="success", store_id=store.store_id,
                   access_token=_token_for(store.store_id), csrf_token=stores.new_csrf_token())


def current_session_required(view):
    """login_required, and a token the store's last password change ended answers 401 here too."""
    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        stores.current_session_store(session=db.session, store_id=g.store_id, claims=g.token_claims)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/")
@current_session_required
def current_store():
    store = stores.get_store(session=db.session, store_id=g.store_id)
    return jsonify(store=stores.public_profile(store))


@bp.get("/check")
def check_username():
    query = parse_query(UsernameQuery)
    if stores.username_taken(session=db.session, username=query.username):
        return jsonify(result="failed", message="이미 존재하는 아이디입니다.")
    return jsonify(result="success", message="사용 가능한 아이디입니다.")


@bp.post("/pwcheck")
@current_session_required
@unit_of_work(db)
def check_password():
    form = parse_body(PasswordCheck)
    if stores.password_is_correct(unit=current_unit(), store_id=g.store_id, password=form.password,
                                  address=client_address(), bcrypt_rounds=_settings().bcrypt_rounds,
                                  limits=Limits.from_settings(_settings()), token_id=_token_id()):
        return jsonify(result="success", message="비밀번호가 일치합니다.")
    return jsonify(result="failed", message="비밀번호가 일치하지 않습니다.")


@bp.put("/<int:store_id>")
@current_session_required
@unit_of_work(db)
def update_store(store_id: int):
    changes = parse_body(StoreUpdate)
    store = stores.update_store(session=db.session, caller_store_id=g.store_id, store_id=store_id,
                                changes=changes, bcrypt_rounds=_settings().bcrypt_rounds,
                                caller_token_id=_token_id(),
                                password_check_window=datetime.timedelta(
                                    seconds=_settings().password_change_window_seconds))
    return jsonify(store_id=store.store_id, result="success", message="매장 정보 수정 성공")
