"""The bare two-process Flask hop that BENCH_MODE=hop compares the BFF with: `front` (gunicorn A)
answers GET /hop by calling `upstream` (gunicorn B) over HTTP and answering its JSON; `upstream`
answers GET /menu with the JSON in HOP_REPLY_FILE (the measured store's menu, as the item service
answered it). No database, no tokens, no middleware: what Flask, gunicorn and one internal HTTP
call cost on this machine with the same server settings, and the same HTTP client as the services
(salesync_common.http_transport, libcurl with keep-alive per thread), so the comparison measures what
Salesync adds, not which client it uses.

    gunicorn ... bench.hop_apps:upstream     (HOP_REPLY_FILE=menu.json)
    gunicorn ... bench.hop_apps:front        (HOP_UPSTREAM_URL=http://127.0.0.1:<port of B>)
"""
from __future__ import annotations

import json
import os
import pathlib

from flask import Flask, jsonify

from salesync_common.http_transport import Transport

upstream = Flask("hop-upstream")
front = Flask("hop-front")
_transport = Transport()  # keep-alive connections per thread, as a service keeps them
_REPLY = json.loads(pathlib.Path(os.environ["HOP_REPLY_FILE"]).read_text()) if os.environ.get("HOP_REPLY_FILE") else {}


@upstream.get("/menu")
def menu():
    return jsonify(_REPLY)


@front.get("/hop")
def hop():
    reply = _transport.send("GET", os.environ["HOP_UPSTREAM_URL"] + "/menu", headers={}, connect_timeout=1, timeout=5)
    return jsonify(json.loads(reply.body)), reply.status


for _app in (upstream, front):
    _app.json.sort_keys = False
    _app.json.ensure_ascii = False
    _app.add_url_rule("/readyz", "readyz", lambda: "ok")
