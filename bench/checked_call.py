"""One request of a locust user, judged as the bench judges every request: the status must be one of
`expect` and the body JSON; anything else is a failure with its status and the start of its text."""
from __future__ import annotations


def checked_call(client, route: str, method: str, path: str, *, headers: dict, body=None, expect=(200, 201)):
    """The reply's JSON, or None after marking the request failed."""
    with client.request(method, path, name=route, headers=headers, json=body, catch_response=True) as response:
        if response.status_code not in expect:
            response.failure(f"{response.status_code} {(response.text or '')[:120]}")
            return None
        try:
            data = response.json()
        except ValueError:
            response.failure(f"{response.status_code} not JSON")
            return None
        response.success()
        return data
