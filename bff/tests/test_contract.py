"""The tests hold the BFF to its OpenAPI document: a field a service adds to a reply that the document
lacks fails a test, while the BFF itself passes the reply on as the service sent it."""
import flask
import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError

from bff.app import schemas as s
from testsupport.bff_contract import check_answer, check_reply
from testsupport.served import ServedApp

from .conftest import bff_app, closed_port_url

CHECK = "/stores/check?username=nobody1234"
DOCUMENTED = {"result": "success", "message": "사용 가능한 아이디입니다."}


@pytest.fixture
def stand_in_store():
    """A stand-in store service whose username check answers `stand_in_store.answer`."""
    app = flask.Flask(__name__)

    @app.get("/stores/check")
    def username_check():
        return served.answer

    served = ServedApp(app)
    served.answer = DOCUMENTED
    yield served
    served.shutdown()


@pytest.fixture
def bff(stand_in_store):
    nowhere = closed_port_url()
    return bff_app({**{name: nowhere for name in ("item", "order", "sale", "dashboard", "consulting")},
                    "store": stand_in_store.url})


def test_a_reply_the_document_describes_passes_the_contract_check(bff):
    assert bff.test_client().get(CHECK).get_json() == DOCUMENTED


def test_a_field_the_document_lacks_fails_the_contract_check_but_reaches_the_browser(bff, stand_in_store):
    stand_in_store.answer = {**DOCUMENTED, "suggestion": "nobody12345"}
    assert FlaskClient(bff, bff.response_class).get(CHECK).get_json() == stand_in_store.answer
    with pytest.raises(ValidationError, match="suggestion"):
        bff.test_client().get(CHECK)


def test_a_field_the_document_lacks_fails_in_a_nested_reply_too():
    settled = {"result": "success", "message": "정산 완료", "sent": False, "channel": "recorded",
               "already_sent": False, "date": "2024-06-01", "text": "[Salesync]", "phone": None,
               "settlement_id": 1, "state": "recorded", "reason": "no_aws_credentials",
               "figures": {"store_name": "피자가게", "date": "2024-06-01", "sales_volume": 0, "payments": 0,
                           "refunds": 0, "cash_total": 0, "card_total": 0, "profit": 0, "cost_missing": False}}
    check_answer("GET", "/dashboard/calculate?date=2024-06-01", 200, settled)
    with pytest.raises(ValidationError, match="figures.tax"):
        check_answer("GET", "/dashboard/calculate?date=2024-06-01", 200,
                     {**settled, "figures": {**settled["figures"], "tax": 0}})


def test_an_error_and_this_document_keep_their_declared_open_fields():
    check_reply(s.Error, {"result": "failed", "error": "invalid_field", "message": "x", "limit": 3})
    check_reply(s.OpenApiDocument, {"openapi": "3.1.0", "paths": {}})
