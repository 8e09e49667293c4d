"""The settlement SMS (API.md §6.9, §11.4): figures of a business day, sent once, always recorded."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from salesync_common.business_day import parse_day
from salesync_common.errors import ValidationFailed
from salesync_common.service_client import service_client
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import current_unit, unit_of_work

from .. import settlements
from ..models import db

bp = Blueprint("settlements", __name__, url_prefix="/dashboard")

_YES, _NO = {"true", "1", "yes"}, {"", "false", "0", "no"}


def _resend() -> bool:
    value = request.args.get("resend", "").strip().lower()
    if value not in _YES | _NO:
        raise ValidationFailed("resend must be true or false", field="resend")
    return value in _YES


@bp.get("/calculate")
@login_required
@unit_of_work(db)
def calculate():
    day = parse_day(request.args.get("date"), "date")
    answer = settlements.settle(unit=current_unit(), client=service_client(), store_id=g.store_id, day=day,
                                resend=_resend(), limits=current_app.extensions["sms_limits"])
    return jsonify(result="success", **answer)
