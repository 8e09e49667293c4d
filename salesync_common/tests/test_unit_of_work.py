"""One commit boundary per request: a view wrapped in @unit_of_work commits once when it answers
below 400, and leaves nothing behind when it raises or answers an error; a checkpoint survives both."""
import uuid

import psycopg2
import pytest
from flask import jsonify
from sqlalchemy import event

from salesync_common.errors import Conflict
from salesync_common.unit_of_work import UnitOfWork, current_unit, unit_of_work
from store_service.app import create_app
from store_service.app.models import LoginFailure, db
from testsupport.postgres import libpq_url
from testsupport.settings import migrated_settings, service_headers


def _write(name: str) -> None:
    db.session.add(LoginFailure(username=name))
    db.session.flush()


@pytest.fixture(scope="module")
def app(database_url):
    app = create_app(migrated_settings("store", database_url))

    @unit_of_work(db)
    def succeeds(name):
        _write(name)
        return jsonify(written=name), 201

    @unit_of_work(db)
    def raises(name):
        _write(name)
        raise Conflict("refused after writing", error="refused")

    @unit_of_work(db)
    def breaks(name):
        _write(name)
        raise RuntimeError("a bug after writing")

    @unit_of_work(db)
    def answers_an_error(name):
        _write(name)
        return jsonify(result="failed"), 422

    @unit_of_work(db)
    def checkpoints_then_fails(name):
        _write(f"{name}-kept")
        current_unit().checkpoint("the first row must survive what follows")
        _write(f"{name}-lost")
        return jsonify(result="failed"), 400

    for view in (succeeds, raises, breaks, answers_an_error, checkpoints_then_fails):
        app.add_url_rule(f"/uow/{view.__name__}/<name>", view_func=view, methods=["POST"])
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def name():
    return f"uow-{uuid.uuid4().hex[:12]}"


def stored(database_url, prefix):
    """The rows another connection sees: only what was committed."""
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT username FROM store.login_failures WHERE username LIKE %s ORDER BY username",
                       (prefix + "%",))
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def commits(app):
    """How many transactions the database was asked to commit."""
    counted = []
    with app.app_context():
        engine = db.engine

    def count(connection):
        counted.append(connection)

    event.listen(engine, "commit", count)
    yield counted
    event.remove(engine, "commit", count)


def test_a_view_that_succeeds_commits_once(app, database_url, name, commits):
    response = app.test_client().post(f"/uow/succeeds/{name}", headers=service_headers("store"))

    assert response.status_code == 201
    assert len(commits) == 1
    assert stored(database_url, name) == [name]


@pytest.mark.parametrize("view,status", [("raises", 409), ("breaks", 500), ("answers_an_error", 422)])
def test_a_view_that_raises_or_answers_an_error_leaves_nothing_behind(app, database_url, name, commits, view,
                                                                       status):
    response = app.test_client().post(f"/uow/{view}/{name}", headers=service_headers("store"))

    assert response.status_code == status
    assert commits == []
    assert stored(database_url, name) == []


def test_a_checkpoint_survives_an_error_response_and_what_follows_it_does_not(app, database_url, name, commits):
    response = app.test_client().post(f"/uow/checkpoints_then_fails/{name}", headers=service_headers("store"))

    assert response.status_code == 400
    assert len(commits) == 1
    assert stored(database_url, name) == [f"{name}-kept"]


def test_the_session_is_usable_after_a_failed_request(app, database_url, name):
    client = app.test_client()
    assert client.post(f"/uow/raises/{name}-1", headers=service_headers("store")).status_code == 409

    assert client.post(f"/uow/succeeds/{name}-2", headers=service_headers("store")).status_code == 201
    assert stored(database_url, name) == [f"{name}-2"]


def test_leaving_a_unit_without_commit_rolls_back(app, database_url, name):
    with app.app_context():
        with UnitOfWork(db.session):
            _write(f"{name}-given-up")
        with UnitOfWork(db.session) as unit:
            _write(f"{name}-committed")
            unit.commit()

    assert stored(database_url, name) == [f"{name}-committed"]


def test_current_unit_outside_a_unit_of_work_is_a_mistake(app):
    with app.test_request_context(), pytest.raises(RuntimeError, match="no unit of work"):
        current_unit()
