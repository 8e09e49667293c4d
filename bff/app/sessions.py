"""Tokens a password change ended are refused on every route of the BFF, within SALESYNC_SESSION_CHECK_SECONDS.

Every public request passes the BFF, and the services answer only to Salesync services, so this one
check covers every service: the store's password-change record (when, and which token made the
change) comes from the store service and is kept at most that many seconds per store in each process.
The token that made the change lives on: the POS keeps it and returns to its home screen.
"""
from __future__ import annotations

import logging
import threading
import time
from http import HTTPStatus

from flask import current_app, g

from salesync_common.contracts.stores import PasswordChange
from salesync_common.errors import Unauthorized, UpstreamError
from salesync_common.service_client import ServiceClient
from salesync_common.tokens import SessionEnded, ended_by_password_change

log = logging.getLogger(__name__)
RECORD_PATH = "/internal/stores/{store_id}/password-change"


class PasswordChanges:
    """Each store's password-change record, fetched from the store service and kept `max_age` seconds."""

    def __init__(self, *, max_age: float, clock=time.monotonic):
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._records: dict[int, tuple[PasswordChange, float]] = {}

    def record(self, *, client: ServiceClient, store_id: int) -> PasswordChange:
        now = self.clock()
        with self._lock:
            kept = self._records.get(store_id)
        if kept is not None and now - kept[1] < self.max_age:
            return kept[0]
        try:
            reply = client.get("store", RECORD_PATH.format(store_id=store_id))
        except UpstreamError:
            if kept is None:
                raise
            # The store service is away for a moment (a restart): the last record known keeps the POS working.
            log.warning("the store service did not answer; using store %s's password-change record of %.0f s ago",
                        store_id, now - kept[1])
            return kept[0]
        if reply.status == HTTPStatus.NOT_FOUND:
            raise Unauthorized("this store no longer exists", error="unknown_store")
        record = reply.parsed(PasswordChange)
        with self._lock:
            self._records[store_id] = (record, now)
        return record


def refuse_ended_session(*, client: ServiceClient, store_id: int) -> None:
    """401 for a token of `store_id` (on this request) that the store's last password change ended."""
    changes: PasswordChanges = current_app.extensions["bff_password_changes"]
    record = changes.record(client=client, store_id=store_id)
    if ended_by_password_change(g.token_claims, changed_at=record.changed_at, changed_by=record.changed_by):
        raise SessionEnded()
