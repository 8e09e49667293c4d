import pytest

from salesync_common.database import truncate_all
from salesync_common.testing import CheckedClient, migrated_settings
from store_service.app import create_app
from store_service.app.models import db

OWNER = {
    "username": "salesync01",
    "password": "Passw0rd!23",
    "owner_name": "홍길동",
    "phone": "01012345678",
    "store_name": "피자가게",
    "address": "서울시 중구 세종대로 110",
    "store_type": "일반음식점",
}


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(migrated_settings("store", database_url))
    app.test_client_class = CheckedClient
    return app


@pytest.fixture(autouse=True)
def clean_tables(app):
    yield
    with app.app_context():
        truncate_all(db)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sign_up(client):
    """Sign a store up; returns (store_id, Authorization headers)."""
    def _sign_up(**changes):
        response = client.post("/stores/", json={**OWNER, **changes})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return body["store_id"], {"Authorization": f"Bearer {body['token']['access_token']}"}
    return _sign_up
