"""Routes only other services call. The store is always the one in the forwarded token."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from salesync_common.contracts.stores import StoreCard
from salesync_common.errors import NotFound
from salesync_common.service_auth import called_by

from .. import stores
from ..models import Store, db
from .stores import current_session_required

bp = Blueprint("internal", __name__, url_prefix="/internal")


@bp.get("/stores/me")
@current_session_required
def my_store():
    store = stores.get_store(session=db.session, store_id=g.store_id)
    return jsonify(StoreCard(store_id=store.store_id, store_name=store.store_name, owner_name=store.owner_name,
                             phone=store.phone, time_zone=store.time_zone).model_dump(mode="json"))


@bp.get("/stores/<int:store_id>/password-change")
@called_by("bff")
def password_change(store_id: int):
    """For the BFF, which ends on every route the tokens a password change ended (no store token: the BFF
    asks before it lets a token through)."""
    store = db.session.get(Store, store_id)
    if store is None:
        raise NotFound("no such store", error="unknown_store")
    return jsonify(stores.password_change(store).model_dump(mode="json"))
