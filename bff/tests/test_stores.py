"""Sign-up, login, username check, profile, password check and change, all through the BFF (API.md §2)."""
from .conftest import Pos, owner


def test_a_new_owner_checks_the_name_signs_up_logs_in_and_reads_the_profile(client):
    form = owner()
    free = client.get(f"/stores/check?username={form['username']}").get_json()
    assert free["result"] == "success"

    signed_up = client.post("/stores/", json=form)
    assert signed_up.status_code == 201
    store_id = signed_up.get_json()["store_id"]
    assert isinstance(store_id, int) and signed_up.get_json()["token"]["access_token"]

    taken = client.get(f"/stores/check?username={form['username']}").get_json()
    assert taken == {"result": "failed", "message": "이미 존재하는 아이디입니다."}

    logged_in = client.post("/stores/login", json={"username": form["username"], "password": form["password"]})
    assert logged_in.status_code == 200
    tokens = logged_in.get_json()
    assert tokens["store_id"] == store_id and tokens["csrf_token"]

    headers = {"Authorization": f"Bearer {tokens['access_token']}", "X-CSRF-Token": tokens["csrf_token"]}
    profile = client.get("/stores/", headers=headers).get_json()["store"]
    assert profile["store_id"] == store_id and profile["owner_name"] == "홍길동"


def test_a_wrong_password_at_login_is_a_400(client):
    terminal = Pos(client)
    response = client.post("/stores/login", json={"username": terminal.form["username"], "password": "Wrong0ne!23"})
    assert response.status_code == 400


def test_signing_up_twice_with_one_username_is_a_409(client):
    form = owner()
    assert client.post("/stores/", json=form).status_code == 201
    assert client.post("/stores/", json=form).status_code == 409


def test_a_missing_sign_up_field_is_a_400_naming_it(client):
    form = owner()
    del form["phone"]
    response = client.post("/stores/", json=form)
    assert response.status_code == 400 and response.get_json()["field"] == "phone"


def test_the_owner_checks_then_changes_the_password(client):
    terminal = Pos(client)
    assert terminal.call("POST", "/stores/pwcheck", {"password": "nope"})["result"] == "failed"
    assert terminal.call("POST", "/stores/pwcheck", {"password": terminal.form["password"]})["result"] == "success"

    changed = terminal.call("PUT", f"/stores/{terminal.store_id}", {"password": "NewPassw0rd!"})
    assert changed["store_id"] == terminal.store_id

    username = terminal.form["username"]
    assert client.post("/stores/login", json={"username": username, "password": "NewPassw0rd!"}).status_code == 200
    assert client.post("/stores/login", json={"username": username, "password": "Passw0rd!23"}).status_code == 400


def test_a_body_that_is_not_json_is_refused_at_the_bff(client):
    response = client.post("/stores/login", data="username=a", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
