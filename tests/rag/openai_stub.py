"""A scripted stand-in for an OpenAI-compatible chat endpoint, served on 127.0.0.1 for tests.

No model weights exist on our machines, so LLM mode is tested against this: it replies with text
chosen by the test (``script``), echoing which sources it was shown, or fails on purpose.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class Script:
    reply: str = "回答 [1]"
    status: int = 200
    delay_s: float = 0.0
    requests: list[dict] = field(default_factory=list)


def make_app(script: Script) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        script.requests.append(body)
        if script.delay_s:
            time.sleep(script.delay_s)
        if script.status != 200:
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=script.status)
        user = body["messages"][-1]["content"]
        shown = len(re.findall(r"^\[\d+\] ", user, flags=re.MULTILINE))
        content = script.reply.replace("{n_sources}", str(shown))
        return {
            "id": "stub",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "stub"),
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    return app


class StubServer:
    def __init__(self, port: int):
        self.script = Script()
        self.url = f"http://127.0.0.1:{port}/v1"
        config = uvicorn.Config(make_app(self.script), host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> StubServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("stub LLM server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(5)
