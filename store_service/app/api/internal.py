"""Routes only other services call. The store is always the one in the forwarded token."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from salesync_common.contracts.stores import StoreCard
from salesync_common.tokens import login_required

from .. import stores
from ..models import db

bp = Blueprint("internal", __name__, url_prefix="/internal")


@bp.get("/stores/me")
@login_required
def my_store():
    store = stores.get_store(session=db.session, store_id=g.store_id)
    return jsonify(StoreCard(store_id=store.store_id, store_name=store.store_name, owner_name=store.owner_name,
                             phone=store.phone, time_zone=store.time_zone).model_dump(mode="json"))
