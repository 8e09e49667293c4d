"""Consulting results as the dashboard received them from Kafka: a plain database read."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from salesync_common.tokens import login_required

from .. import consulting_feed
from ..models import db

bp = Blueprint("consulting", __name__, url_prefix="/dashboard/consulting")


@bp.get("/<req_id>")
@bp.get("/test/<req_id>")
@login_required
def consulting_result(req_id: str):
    result = consulting_feed.result_for(session=db.session, store_id=g.store_id, req_id=req_id)
    return jsonify(result="success", message="상담 요청 조회 성공", req_id=str(result.req_id),
                   source=result.source, consulting=result.consulting,
                   created_at=result.created_at.isoformat())
