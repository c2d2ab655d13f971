"""End to end in a real browser: the example page (`examples/inbox/`, @novu/js bundled with
esbuild) against a real Herald, in Debian's headless Chromium driven by Playwright.

Skipped when Chromium or the bundle is missing, unless HERALD_TEST_BROWSER=1 (as `.ci/run`
sets it after installing both), where that is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from novu_py import Novu, models

from tests.inbox.fixtures import application_identifier, deliver, subscriber_hash
from tests.support import RunningServer, free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inbox"
CHROMIUM = os.environ.get("HERALD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(os.environ.get("HERALD_TEST_SCREENSHOTS", "/tmp/herald-inbox-screenshots"))


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if not (EXAMPLE / "dist" / "main.js").exists():
        return "examples/inbox is not built (npm ci && npm run build)"
    return None


@pytest.fixture
def page_server() -> Iterator[str]:
    problem = _missing()
    if problem:
        if os.environ.get("HERALD_TEST_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    handler = functools.partial(QuietHandler, directory=str(EXAMPLE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    finally:
        httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


def _page_url(base: str, server: RunningServer, environment: str, subscriber_id: str, hash_: str) -> str:
    query = {
        "applicationIdentifier": application_identifier(server, environment),
        "subscriberId": subscriber_id,
        "subscriberHash": hash_,
        "backendUrl": server.url,
    }
    return f"{base}?{urlencode(query)}"


def test_inbox_in_a_browser(server: RunningServer, page_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which(CHROMIUM) or CHROMIUM, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page()
            secret = server.keys["Production"]
            page.goto(
                _page_url(page_server, server, "Production", "web-user", subscriber_hash(secret, "web-user"))
            )
            expect(page.locator("#status")).to_have_text("ready", timeout=20_000)
            expect(page.locator("#badge")).to_have_text("0")

            # A real trigger through novu-py: the engine stores the in-app message and the
            # socket pushes it to the open page.
            novu = Novu(secret_key=secret, server_url=server.url)
            novu.workflows.create(
                create_workflow_dto={
                    "name": "Welcome",
                    "workflow_id": "welcome",
                    "active": True,
                    "steps": [
                        {
                            "name": "Inbox",
                            "type": "in_app",
                            "control_values": {
                                "subject": "Welcome",
                                "body": "Hello from {{ payload.product }}",
                            },
                        }
                    ],
                }
            )
            novu.trigger(
                trigger_event_request_dto=models.TriggerEventRequestDto(
                    workflow_id="welcome", to="web-user", payload={"product": "Herald"}
                )
            )
            item = page.locator("li").first
            expect(item).to_contain_text("Welcome: Hello from Herald", timeout=20_000)
            expect(item).to_have_attribute("data-read", "false")
            expect(page.locator("#badge")).to_have_text("1", timeout=20_000)
            page.screenshot(path=str(SCREENSHOT_DIR / "inbox-delivered.png"))
            message_id = item.get_attribute("data-id")

            item.get_by_role("button", name="Mark read").click()
            expect(item).to_have_attribute("data-read", "true", timeout=20_000)
            expect(page.locator("#badge")).to_have_text("0", timeout=20_000)
            stored = server.client("Production").get("/v2/subscribers/web-user/notifications").json()["data"]
            assert [(each["id"], each["isRead"]) for each in stored] == [(message_id, True)]

            # A wrong hash on Production: no session, so nothing is shown, even when messages exist.
            intruder = browser.new_page()
            intruder.goto(_page_url(page_server, server, "Production", "web-user", "0" * 64))
            expect(intruder.locator("#status")).to_contain_text("error", timeout=20_000)
            deliver(server, "web-user", "Production", content="not for intruders")
            intruder.wait_for_timeout(500)
            expect(intruder.locator("li")).to_have_count(0)
            intruder.screenshot(path=str(SCREENSHOT_DIR / "inbox-wrong-hash.png"))
        finally:
            browser.close()
