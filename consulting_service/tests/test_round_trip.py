"""A consulting request all the way to the Kafka topic: real services over HTTP, a real broker, one worker
step and one relay step."""
import datetime
import json
import time
import uuid

from consulting_service.app import outbox
from consulting_service.app.models import ConsultingJob

from .conftest import records_with_key


def test_a_consulting_request_reaches_the_topic_once_and_then_says_success(client, shop, sessions, kafka_broker,
                                                                           work_one_job):
    status_path = "/consulting/test/{}"
    began = time.monotonic()
    response = client.get(f"/consulting/test?start={shop.today}&end={shop.today}", headers=shop.headers)
    answered = time.monotonic() - began
    req_id = response.get_json()["req_id"]
    assert answered < 0.5

    assert str(work_one_job()) == req_id
    assert client.get(status_path.format(req_id), headers=shop.headers).get_json()["result"] == "not completed"
    publisher = outbox.Publisher(kafka_broker.bootstrap_servers)
    try:
        with sessions() as session:
            assert outbox.relay_pending(session=session, publisher=publisher).sent == 1
    finally:
        publisher.close()
    [record] = records_with_key(kafka_broker.bootstrap_servers, req_id)
    latency = time.monotonic() - began

    with sessions() as session:
        job = session.get(ConsultingJob, uuid.UUID(req_id))
    payload = json.loads(record.value)
    assert payload == {"req_id": req_id, "store_id": shop.store_id, "source": "rule_based",
                       "consulting": job.consulting, "created_at": job.finished_at.isoformat()}
    assert "제육볶음" in payload["consulting"]
    assert datetime.datetime.fromisoformat(payload["created_at"]) <= datetime.datetime.now(datetime.UTC)
    status = client.get(status_path.format(req_id), headers=shop.headers).get_json()
    assert status == {"result": "success", "message": "컨설팅 완료", "req_id": req_id, "source": "rule_based"}
    print(f"\nrequest answered in {answered * 1000:.0f} ms; request -> message on the topic in {latency * 1000:.0f} ms "
          f"(one worker step, one relay step)")
