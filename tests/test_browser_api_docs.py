"""The API reference page (/api/v1/docs) in real chromium: Swagger UI, vendored,
under the site's Content-Security-Policy, lists every operation and runs one."""

import pytest

from .browser import ARTIFACTS

pytestmark = pytest.mark.browser


def test_reference_page_shows_every_operation_and_tries_one(page, live_server):
    refused, outside = [], []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(live_server + "/api/v1/docs")
    page.locator(".opblock-summary-path").first.wait_for()
    paths = [p.get_attribute("data-path") for p in page.locator(".opblock-summary-path").all()]
    assert sorted(paths) == [
        "/api/v1/rules",
        "/api/v1/search",
        "/api/v1/therapists/{therapist_id}",
        "/api/v1/vocabulary",
    ]
    assert "TrueTouch Directory API" in page.locator(".info .title").inner_text()
    page.locator("#operations-reference-getVocabulary .opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    body = page.locator("#operations-reference-getVocabulary .responses-wrapper .live-responses-table").inner_text()
    assert "Prenatal massage" in body and "200" in body
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=False)
    assert not refused, refused  # nothing blocked by the CSP
    assert not outside, outside  # nothing fetched from anywhere else (no CDN, no validator)
