"""Consulting routes (API.md §7, Decision 6). The /test paths behave exactly like the others:
the frontend uses them. Starting a job only records it, within the store's quota; the worker does the rest."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from salesync_common.business_day import parse_period
from salesync_common.tokens import login_required
from salesync_common.unit_of_work import unit_of_work

from .. import jobs
from ..models import db

bp = Blueprint("consulting", __name__, url_prefix="/consulting")


@bp.get("/")
@bp.get("/test")
@login_required
# The job is committed before its id is answered, so the worker (and the status route) can see it.
@unit_of_work(db)
def start():
    start_date, end_date = parse_period(request.args.get("start"), request.args.get("end"))
    settings = current_app.extensions["salesync_settings"]
    quota = jobs.Quota(max_unfinished=settings.consulting_max_unfinished, per_hour=settings.consulting_per_hour)
    job = jobs.start_job(session=db.session, store_id=g.store_id, start=start_date, end=end_date, quota=quota)
    return jsonify(req_id=str(job.req_id))


@bp.get("/<req_id>")
@bp.get("/test/<req_id>")
@login_required
def status(req_id: str):
    return jsonify(jobs.status_of(session=db.session, store_id=g.store_id, req_id=req_id))
