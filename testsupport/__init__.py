"""What tests, `make run`, the bench and the drills share, kept out of every image.

The dependency runs one way: local_run, bench, drills and the tests use this package; it uses
salesync_common and the services; salesync_common uses none of them.

- settings.py      test settings (one JWT secret per session) and migrated settings
- clients.py       CheckedClient, the Flask test client that fails a test on a 500 or a non-JSON error
- served.py        a service over real HTTP: in a thread (ServedApp) or under gunicorn (ServiceProcess)
- fixtures.py      the pytest plugin (database, served services, brokers) and service_fixtures()
- shop.py          the shop-scenario driver: sign up, menu, costs, orders, payments, days of history
- postgres.py      a PostgreSQL to run against: given, or embedded
- kafka_broker.py  the local Kafka-protocol broker (Tansu)
"""
