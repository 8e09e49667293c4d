"""One route of the table (app/routes.py): the path the browser calls, the service that owns it, its
wire shapes, and its own view when it is not simply forwarded."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from pydantic import BaseModel

from .urls import PATH_PARAMETER, service_path


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    path: str                                   # the Flask rule the browser calls
    service: str | None                         # the owning service; None: answered here
    summary: str
    response: type[BaseModel] | None            # the success reply (None: not JSON)
    status: int = 200                           # the success status
    upstream: str | None = None                 # the path on the service, when not the same
    auth: bool = True                           # a valid token is checked here before forwarding
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()                # statuses the owner answers besides the usual ones
    idempotent: bool = False                    # honours Idempotency-Key
    starts_work: bool = False                   # a GET that must not be retried (it starts a job or sends)
    report: bool = False                        # an owner's report: SALESYNC_REPORT_DEADLINE_MS, not the request's
    handler: Callable | None = None             # a view of its own instead of forwarding: handler(route, **path_args)
    content_type: str = "application/json"

    @property
    def endpoint(self) -> str:
        path = PATH_PARAMETER.sub(r"\g<name>", self.path)
        return re.sub(r"\W+", "_", f"{self.method.lower()}{path}").strip("_")

    @property
    def tag(self) -> str:
        return self.service or "bff"

    def upstream_path(self, path_args: dict) -> str:
        """The path on the owning service, with the path arguments put in (each one URL-quoted)."""
        return service_path(self.upstream or self.path, path_args)
