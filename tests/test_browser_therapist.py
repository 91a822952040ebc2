"""A new therapist joins, confirms the email, completes the profile and submits a license."""

import re

import pytest

from directory.mail import plain_text

from .browser import ARTIFACTS
from .factories import pdf_bytes

pytestmark = pytest.mark.browser
PDF = pdf_bytes()


def test_new_therapist_reaches_pending_verification(page, live_server, app, tmp_path):
    page.goto(live_server + "/")
    page.get_by_role("link", name="For therapists").click()
    page.get_by_label("Your full name").fill("Maya Lindqvist")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password", exact=False).first.fill("harbor-lantern-velvet-9")
    page.get_by_label("Repeat the password").fill("harbor-lantern-velvet-9")
    page.get_by_role("button", name="Create my account").click()
    # Sign-up answers the same for every email (no one learns who has an account): sign in next.
    assert "We sent a message to maya@example.com" in page.locator("body").inner_text()
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("harbor-lantern-velvet-9")
    page.get_by_role("button", name="Sign in").click()
    assert "Please confirm your email" in page.locator("main").inner_text()

    [message] = app.extensions["mailer"].outbox()
    link = re.search(r"https?://[^/\s]+(/auth/confirm/\S+)", plain_text(message)).group(1)
    page.goto(live_server + link)
    assert "maya@example.com is confirmed" in page.locator("main").inner_text()

    page.get_by_role("link", name="Profile", exact=True).click()
    page.get_by_label("About you").fill("Gentle Swedish and prenatal massage for busy parents. " * 2)
    page.get_by_label("Swedish massage").check()
    page.get_by_label("Prenatal massage").check()
    page.get_by_label("60 minutes ($)").fill("95")
    page.get_by_label("ZIP code").fill("60614")
    page.get_by_role("button", name="Save profile").click()
    assert "We place you at Chicago, IL 60614" in page.locator("main").inner_text()

    document = tmp_path / "license.pdf"
    document.write_bytes(PDF)
    page.get_by_role("link", name="License and certifications").click()
    page.get_by_label("License or credential number").last.fill("IL-227-001234")
    page.get_by_label("Issuing state").last.select_option("IL")
    page.get_by_label("Expires on").first.fill("2029-06-30")
    page.get_by_label("Document").last.set_input_files(str(document))
    page.get_by_role("button", name="Submit for verification").first.click()
    main = page.locator("main").inner_text()
    assert "License submitted" in main and "Pending: waiting for an administrator" in main

    page.get_by_role("link", name="Dashboard").click()
    dashboard = page.locator("main").inner_text()
    assert "Not listed yet" in dashboard and "Get your license verified" in dashboard
    page.screenshot(path=str(ARTIFACTS / "therapist-dashboard.png"), full_page=True)
