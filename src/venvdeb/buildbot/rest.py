"""The master's REST API as a client sees it: tests, benchmarks and scripts drive Buildbot with it."""

from __future__ import annotations

import http.cookiejar
import json
import ssl
import time
import urllib.error
import urllib.request
from base64 import b64encode


class Api:
    """The master's REST API, as a browser session: a login cookie or none."""

    def __init__(self, url: str, cafile: str | None = None):
        """``cafile``: the certificate to trust for an https URL (the farm's self-signed one)."""
        self.url, self.cafile = url.rstrip("/"), cafile
        self.cookies = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies)]
        if cafile:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
        self.opener = urllib.request.build_opener(*handlers)

    def anonymous(self) -> "Api":
        """Another session of the same master, logged in as nobody."""
        return Api(self.url, self.cafile)

    def login(self, user: str, password: str) -> None:
        token = b64encode(f"{user}:{password}".encode()).decode()
        request = urllib.request.Request(f"{self.url}/auth/login", headers={"Authorization": f"Basic {token}"})
        self.opener.open(request, timeout=30).read()

    def get(self, path: str) -> dict:
        with self.opener.open(f"{self.url}/api/v2/{path}", timeout=30) as r:
            return json.loads(r.read())

    def call(self, path: str, method: str, **params) -> tuple[int, dict]:
        body = json.dumps({"jsonrpc": "2.0", "method": method, "id": 1, "params": params}).encode()
        request = urllib.request.Request(f"{self.url}/api/v2/{path}", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def builder_id(self, name: str) -> int:
        return self.get(f"builders?name={name}")["builders"][0]["builderid"]

    def force(self, scheduler: str, builder: str, **params) -> int:
        status, answer = self.call(f"forceschedulers/{scheduler}", "force",
                                   builderid=str(self.builder_id(builder)), **params)
        if status != 200:
            raise RuntimeError(f"forcing {builder} through {scheduler}: HTTP {status}: {answer}")
        return next(iter(answer["result"][1].values()))  # the build request's id

    def wait_request(self, brid: int, timeout: float = 900) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get(f"buildrequests/{brid}")["buildrequests"][0]["complete"]:
                return self.get(f"builds?buildrequestid={brid}&property=*")["builds"][-1]
            time.sleep(1)
        raise TimeoutError(f"build request {brid} not done in {timeout} s")

    def builds(self, builder: str) -> list[dict]:
        return self.get(f"builders/{self.builder_id(builder)}/builds?property=*")["builds"]

    def steps(self, build: dict) -> list[tuple[str, int]]:
        return [(s["name"], s["results"]) for s in self.get(f"builds/{build['buildid']}/steps")["steps"]]

    def log_text(self, build: dict, step: str, log: str = "stdio") -> str:
        """A step's log as the web UI's download gives it (header lines included)."""
        url = f"{self.url}/api/v2/builds/{build['buildid']}/steps/{step}/logs/{log}/raw"
        with self.opener.open(url, timeout=30) as r:
            return r.read().decode(errors="replace")

    def wait(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(1)
        raise TimeoutError(f"timed out waiting for {what}")
