"""URL building for calls to the owning services: the path parameters of a Flask rule, each put in
as one URL-quoted path segment."""
from __future__ import annotations

import re
from urllib.parse import quote

# <converter:name> or <name> in a Flask rule.
PATH_PARAMETER = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[A-Za-z_]\w*)>")


def path_segment(value) -> str:
    """One URL-quoted path segment for the owning service."""
    segment = quote(str(value), safe="")
    # "." and ".." would be resolved away by the HTTP client and reach another route of the service.
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def service_path(rule: str, path_args: dict) -> str:
    """The rule with its path arguments put in, each one URL-quoted."""
    return PATH_PARAMETER.sub(lambda match: path_segment(path_args[match["name"]]), rule)
