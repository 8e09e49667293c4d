"""Each service's migrations build exactly the tables its models describe.

A model changed without a migration would work in tests that build tables from the models
and fail in production, where only migrations run; Alembic's autogenerate comparison finds it.
"""
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from salesync_common import roster
from salesync_common.migrate import services_with_migrations
from testsupport.settings import migrated_settings


@pytest.mark.parametrize("service", services_with_migrations())
def test_the_migrations_match_the_models(service, database_url):
    app = importlib.import_module(f"{roster.BY_NAME[service].package}.app").create_app(
        migrated_settings(service, database_url))
    with app.app_context():
        db = app.extensions["migrate"].db
        schema = db.metadata.schema
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_schemas": True, "compare_type": True,
                "include_name": lambda name, type_, parents: (
                    name == schema if type_ == "schema" else not (type_ == "table" and name == "alembic_version"))})
            differences = compare_metadata(context, db.metadata)
    assert differences == [], f"{service}: models and migrations differ: {differences}"
