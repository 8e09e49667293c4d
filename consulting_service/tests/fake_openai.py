"""The one test double: a local HTTP server speaking OpenAI's chat-completions API, called by the real client."""
from __future__ import annotations

import json
import threading
import time
import uuid

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ANSWER = "제육볶음을 대표 메뉴로 밀고, 공기밥 가격을 다시 검토하세요."
BEHAVIOURS = ("answer", "fail", "rate_limited_once", "slow", "garbled")


class FakeOpenAI:
    """Switchable behaviour: answer; fail (500 always); rate_limited_once (429, then answer);
    slow (sleeps `delay` seconds before answering); garbled (200 with a body of the wrong shape).
    Every request is recorded, so a test can read the prompt."""

    def __init__(self):
        self.behaviour = "answer"
        self.answer = ANSWER
        self.delay = 2.0
        self.requests: list[dict] = []
        self.released = threading.Event()  # ends a slow answer early when the test is over
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def prompt(self, n: int = -1) -> str:
        return "\n".join(message["content"] for message in self.requests[n]["body"]["messages"])

    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.method != "POST" or request.path != "/v1/chat/completions":
            return self._error(404, "not_found_error", "Unknown request URL")(environ, start_response)
        body = request.get_json(silent=True) or {}
        self.requests.append({"headers": dict(request.headers), "body": body})
        if self.behaviour == "fail":
            response = self._error(500, "server_error", "The server had an error while processing your request.")
        elif self.behaviour == "rate_limited_once" and len(self.requests) == 1:
            response = self._error(429, "rate_limit_exceeded", "Rate limit reached for requests")
        elif self.behaviour == "garbled":
            response = Response(json.dumps({"id": "chatcmpl-x", "choices": "not a list"}), 200,
                                content_type="application/json")
        else:
            if self.behaviour == "slow":
                self.released.wait(self.delay)
            response = self._completion(body)
        return response(environ, start_response)

    def _completion(self, body: dict) -> Response:
        completion = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.answer, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
            "system_fingerprint": "fp_test",
        }
        return Response(json.dumps(completion, ensure_ascii=False), 200, content_type="application/json")

    @staticmethod
    def _error(status: int, code: str, message: str) -> Response:
        error = {"error": {"message": message, "type": code, "param": None, "code": code}}
        return Response(json.dumps(error), status, content_type="application/json")

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
