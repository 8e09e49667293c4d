import pytest

from testsupport.fixtures import service_fixtures

OWNER = {
    "username": "salesync01",
    "password": "Passw0rd!23",
    "owner_name": "홍길동",
    "phone": "01012345678",
    "store_name": "피자가게",
    "address": "서울시 중구 세종대로 110",
    "store_type": "일반음식점",
}


urls, app, client, clean_tables = service_fixtures("store")


@pytest.fixture
def sign_up(client):
    """Sign a store up; returns (store_id, Authorization headers)."""
    def _sign_up(**changes):
        response = client.post("/stores/", json={**OWNER, **changes})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return body["store_id"], {"Authorization": f"Bearer {body['token']['access_token']}"}
    return _sign_up
