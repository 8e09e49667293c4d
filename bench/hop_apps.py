"""The bare two-process Flask hop that BENCH_MODE=hop compares the BFF with: `front` (gunicorn A)
answers GET /hop by calling `upstream` (gunicorn B) over HTTP and answering its JSON; `upstream`
answers GET /menu with the JSON in HOP_REPLY_FILE (the measured store's menu, as the item service
answered it). No database, no tokens, no middleware: what Flask, gunicorn and one internal HTTP
call cost on this machine with the same server settings.

    gunicorn ... bench.hop_apps:upstream     (HOP_REPLY_FILE=menu.json)
    gunicorn ... bench.hop_apps:front        (HOP_UPSTREAM_URL=http://127.0.0.1:<port of B>)
"""
from __future__ import annotations

import json
import os
import pathlib

import requests
from flask import Flask, jsonify

upstream = Flask("hop-upstream")
front = Flask("hop-front")
_session = requests.Session()  # one pooled session per process, as a service keeps one
_REPLY = json.loads(pathlib.Path(os.environ["HOP_REPLY_FILE"]).read_text()) if os.environ.get("HOP_REPLY_FILE") else {}


@upstream.get("/menu")
def menu():
    return jsonify(_REPLY)


@front.get("/hop")
def hop():
    reply = _session.get(os.environ["HOP_UPSTREAM_URL"] + "/menu", timeout=(1, 5))
    return jsonify(reply.json()), reply.status_code


for _app in (upstream, front):
    _app.json.sort_keys = False
    _app.json.ensure_ascii = False
    _app.add_url_rule("/readyz", "readyz", lambda: "ok")
