"""Results you can decide from: each card with its photo, rating, next free times and
its own reasons; sorting; the search carried into the profile and the booking form;
the next free times of a page in one query (issue 13, item 6)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from directory.extensions import db
from directory.geocoding import locate
from directory.matching.engine import ClientRequest
from directory.models import TimeOff
from directory.search.services import run

from .booking_people import open_therapist
from .conftest import TODAY

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")

SEARCH = "/search?location=60601&goals=stress&conditions=varicose_veins&max_price=120"


@pytest.fixture
def two(factory):
    ada = open_therapist(
        factory,
        name="Ada Able",
        photo="ada.jpg",
        rating_count=23,
        rating_average=4.6,
        years_experience=12,
        certifications=("reflexology",),
        languages="en;es",
        prices={60: 110},
    )
    ben = open_therapist(
        factory, name="Ben Brisk", techniques=("swedish", "sports"), prices={60: 80}, lat_lon=(41.8830, -87.6200)
    )
    return ada, ben


def cards(page: str) -> dict[str, str]:
    """Therapist name -> the card's HTML."""
    out = {}
    for card in re.findall(r'<li class="card result">(.*?)</li>\s*(?=<li class="card result">|</ol>)', page, re.S):
        name = re.search(r'class="card-title"><a [^>]+>([^<]+)</a>', card).group(1)
        out[name] = card
    return out


def test_each_card_has_photo_rating_three_times_and_its_own_reasons(client, two):
    ada, ben = two
    page = client.get(SEARCH).get_data(as_text=True)
    found = cards(page)
    assert set(found) == {"Ada Able", "Ben Brisk"}
    a, b = found["Ada Able"], found["Ben Brisk"]
    assert f'src="/therapists/{ada.id}/photo"' in a and f"/therapists/{ben.id}/photo" not in b
    assert "<strong>4.6</strong>" in a and "(23 reviews)" in a and "No reviews yet" in b
    links = re.findall(r'<ul class="next-times"[^>]*>(.*?)</ul>', a, re.S)[0]
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', links)]
    assert len(hrefs) == 3
    for href in hrefs:
        url = urlsplit(href)
        args = parse_qs(url.query)
        assert url.path == f"/therapists/{ada.id}/book"
        assert args["minutes"] == ["60"] and args["goals"] == ["stress"] and args["conditions"] == ["varicose_veins"]
        assert args["max_price"] == ["120"] and args["start"] and args["day"]
    reasons = lambda card: re.findall(
        r"<li>([^<]+)</li>", re.search(r'<ul class="reasons">(.*?)</ul>', card, re.S).group(1)
    )
    ra, rb = reasons(a), reasons(b)
    # The goal fit may be shared; what follows it is each therapist's own.
    assert ra[0] == rb[0] == "Offers Swedish massage, among the best for stress and anxiety relief"
    assert ra[1:] and rb[1:] and not set(ra[1:]) & set(rb[1:])
    assert "Certified in reflexology" in ra and "12 years in practice" in ra
    assert any("Sports massage" in r for r in rb)
    assert not any("miles away" in r for r in ra + rb)  # distance has its own line on the card


def test_a_card_time_opens_the_booking_form_at_that_time_with_the_intake_prefilled(client, two):
    ada, _ = two
    page = client.get(SEARCH).get_data(as_text=True)
    href = html.unescape(re.findall(r'class="next-times"[^>]*>.*?href="([^"]+)"', cards(page)["Ada Able"], re.S)[0])
    start = parse_qs(urlsplit(href).query)["start"][0]
    form = client.get(href).get_data(as_text=True)
    assert re.search(rf'value="{re.escape(start)}"[^>]*checked', form)
    assert re.search(r'value="stress"[^>]*checked', form) and re.search(r'value="varicose_veins"[^>]*checked', form)
    assert "From your search" in form and "Check them before sending" in form and "$120 a session" in form
    # The profile carries the search on too.
    profile_href = html.unescape(re.search(r'class="card-title"><a href="([^"]+)"', cards(page)["Ada Able"]).group(1))
    profile = client.get(profile_href).get_data(as_text=True)
    book = html.unescape(re.search(r'<a class="button" href="([^"]+)">Book a session', profile).group(1))
    assert parse_qs(urlsplit(book).query)["conditions"] == ["varicose_veins"]


def order(client, sort: str) -> list[str]:
    page = client.get(SEARCH + f"&sort={sort}").get_data(as_text=True)
    return list(cards(page))


def test_results_sort_by_best_match_nearest_soonest_and_price(client, two):
    ada, ben = two
    assert order(client, "best") == ["Ada Able", "Ben Brisk"]  # reflexology for stress, rated
    assert order(client, "price") == ["Ben Brisk", "Ada Able"]
    assert order(client, "nearest") == ["Ada Able", "Ben Brisk"]  # Ben is a little farther
    db.session.add(TimeOff(therapist_id=ada.id, starts_on=TODAY - timedelta(days=1), ends_on=TODAY + timedelta(days=5)))
    db.session.commit()
    assert order(client, "soonest") == ["Ben Brisk", "Ada Able"]
    page = client.get(SEARCH + "&sort=soonest").get_data(as_text=True)
    assert 'aria-current="true">Soonest available' in page
    bad = client.get(SEARCH + "&sort=cheapest")
    assert bad.status_code == 400 and "Sort by one of: best, nearest, soonest, price" in bad.get_data(as_text=True)


def test_the_next_free_times_of_a_page_cost_one_query(app, factory, ctx):
    for i in range(20):
        open_therapist(factory, name=f"T{i:02d}", lat_lon=(41.8858 + i * 0.001, -87.6181))
    place = locate("60601", app.extensions["geocoder"])
    request = ClientRequest(latitude=place.latitude, longitude=place.longitude, goals=("stress",))
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *args: statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        run(request, place)
        plain = len(statements)
        statements.clear()
        result = run(request, place, for_page=True)
        with_cards = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert len(result.outcome.results) == 20
    assert all(len(times) == 3 for times in result.next_times.values())
    assert with_cards == plain + 1


def test_on_a_phone_the_form_is_one_tap_away_with_a_summary_and_the_budget_in_sight(client, two):
    page = client.get(SEARCH).get_data(as_text=True)
    asked = re.search(r'<div class="asked">(.*?)</div>', page, re.S).group(1)
    assert "Stress and anxiety relief" in asked and "Varicose veins" in asked and "up to $120 a session" in asked
    assert 'href="#search-form"' in asked and 'id="search-form"' in page
    assert page.index('class="asked"') < page.index('class="results"') < page.index('id="search-form"')
    details = page[page.index('<details class="more"') : page.index("</details>")]
    assert 'name="max_price"' in page and 'name="max_price"' not in details
