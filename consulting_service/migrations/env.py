from salesync_common.migrations_env import run_migrations

run_migrations()
