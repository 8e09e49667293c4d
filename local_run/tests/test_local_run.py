import os
import socket
import subprocess
import sys
import time
import pathlib

import psycopg2
import requests

from local_run.postgres import libpq_url
from salesync_common.testing import TEST_JWT_SECRET, migrated_settings

REPO = pathlib.Path(__file__).resolve().parents[2]
OWNER = {"username": "gunicorn01", "password": "Passw0rd!23", "owner_name": "김사장", "phone": "01055556666",
         "store_name": "분식집", "address": "부산시", "store_type": "휴게음식점"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_taken_port_is_a_clear_message_not_a_traceback():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "STORE_PORT": str(port), "PYTHONPATH": str(REPO)}
        result = subprocess.run([sys.executable, "-m", "local_run"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"already in use: store ({port})" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_store_service_under_gunicorn_signs_up_and_logs_in(database_url):
    migrated_settings("store", database_url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
           "SALESYNC_BCRYPT_ROUNDS": "4", "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--no-control-socket", "store_service.wsgi:app"],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not become ready"
            time.sleep(0.2)

        signed_up = requests.post(base + "/stores/", json=OWNER, timeout=5)
        login = requests.post(base + "/stores/login", json={"username": OWNER["username"],
                                                            "password": OWNER["password"]}, timeout=5)
        profile = requests.get(base + "/stores/", headers={"Authorization": f"Bearer {login.json()['access_token']}"},
                               timeout=5)

        assert signed_up.status_code == 201
        assert login.status_code == 200
        assert profile.json()["store"]["store_name"] == "분식집"
        assert profile.headers["X-Request-ID"]
    finally:
        server.terminate()
        server.wait(timeout=15)
        with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
            cursor.execute("TRUNCATE store.stores, store.login_failures RESTART IDENTITY")
