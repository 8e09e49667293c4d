"""Run Salesync on one machine: PostgreSQL (given or embedded), migrations and the services."""
