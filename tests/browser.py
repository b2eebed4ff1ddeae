"""A real headless Chromium driven over the DevTools protocol: open a page, collect its console
messages, exceptions and network requests, count rendered charts, take a screenshot."""

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import websocket


def chromium_path() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def chromium(browser: str, profile: Path):
    port = _free_port()
    proc = subprocess.Popen(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "--window-size=1400,3000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as resp:
                    pages = [t for t in json.loads(resp.read()) if t.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.2)
        ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        try:
            yield ws
        finally:
            ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


class Page:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def drain(self, seconds: float) -> None:
        end = time.time() + seconds
        self.ws.settimeout(0.2)
        while time.time() < end:
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                continue
        self.ws.settimeout(30)


def visit(
    browser: str, url: str, profile: Path, screenshot: Path, count_selector: str, probes: dict[str, str] | None = None
) -> dict:
    """Open `url`; return console errors, exceptions, requested URLs, the count of elements matching the selector,
    and the value of each JavaScript expression in `probes` (by its name)."""
    with chromium(browser, profile) as ws:
        page = Page(ws)
        for domain in ("Page", "Network", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", url=url)
        page.drain(3.0)
        count = page.call(
            "Runtime.evaluate",
            expression=f"document.querySelectorAll({json.dumps(count_selector)}).length",
            returnByValue=True,
        )["result"]["value"]
        rendered = page.call(
            "Runtime.evaluate",
            returnByValue=True,
            expression=(
                f"Array.from(document.querySelectorAll({json.dumps(count_selector)}))"
                ".filter(el => { const r = el.getBoundingClientRect(); return r.width > 50 && r.height > 50; }).length"
            ),
        )["result"]["value"]
        probed = {
            name: page.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")
            for name, expression in (probes or {}).items()
        }
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    events = page.events
    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    console = [
        e["params"]
        for e in events
        if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
    ]
    logs = [
        e["params"]["entry"]
        for e in events
        if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
    ]
    exceptions = [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
    return {
        "requests": requests,
        "console_errors": console + logs,
        "exceptions": exceptions,
        "count": count,
        "rendered": rendered,
        "probes": probed,
    }
