"""The client address the BFF stands behind: the socket peer, or, behind N trusted proxies
(SALESYNC_TRUSTED_PROXIES=N), the N-th address from the right of X-Forwarded-For.

Each proxy appends the address it saw, so only the rightmost N entries were written by proxies we
run; anything left of them is whatever the client sent. The address travels to the store service
in CLIENT_ADDRESS_HEADER, which it believes only from the BFF (salesync_common.service_auth).
"""
from __future__ import annotations

import ipaddress

from flask import current_app, request


def decided_client_address(*, peer: str | None, forwarded_for: str | None, trusted_proxies: int) -> str:
    peer = peer or "unknown"
    if trusted_proxies <= 0:
        return peer
    entries = [entry.strip() for entry in (forwarded_for or "").split(",") if entry.strip()]
    if not entries:
        return peer  # reached without the proxies: the peer is all we know
    # Fewer entries than proxies: the leftmost is the furthest any of our proxies saw.
    chosen = entries[-trusted_proxies] if len(entries) >= trusted_proxies else entries[0]
    try:
        return str(ipaddress.ip_address(chosen))
    except ValueError:
        return peer  # not an address: never let a client name its own bucket


def client_address() -> str:
    settings = current_app.extensions["salesync_settings"]
    return decided_client_address(peer=request.remote_addr, forwarded_for=request.headers.get("X-Forwarded-For"),
                                  trusted_proxies=settings.trusted_proxies)
