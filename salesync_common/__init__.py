"""Code every Salesync service shares: settings, database, tokens, errors, request ids, health, service client."""
from .service_defaults import init_service
from .settings import ConfigError, Settings

__all__ = ["init_service", "Settings", "ConfigError"]
