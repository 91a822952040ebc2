"""A fair public API (directory/fair_api.py on /api): a rate limit per client
with its headers, CORS for reading, and conditional requests (ETag / 304)."""

import pytest

from directory.fair_api import DEFAULT_LIMIT


@pytest.fixture
def three_a_minute(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAIR_API_RATE_LIMIT", "3 per minute")


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


# --- rate limits -------------------------------------------------------------------


def test_each_client_has_one_budget_across_the_api_with_headers(client, three_a_minute):
    answers = [client.get(url, **from_address("203.0.113.5")) for url in ("/api/v1/vocabulary", "/api/v1/rules")]
    answers.append(client.get("/api/v1/search?conditions=fever", **from_address("203.0.113.5")))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" and int(a.headers["X-RateLimit-Reset"]) > 0 for a in answers)

    refused = client.get("/api/v1/vocabulary", **from_address("203.0.113.5"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # a browser client can read why

    other = client.get("/api/v1/vocabulary", **from_address("198.51.100.7"))
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "2"
    assert client.get("/about/safety", **from_address("203.0.113.5")).status_code == 200  # the site is not the API


def test_the_api_and_the_feeds_share_one_budget_per_client(client, three_a_minute):
    """Issue 23, item 8: /api/v1, /hsds and /fhir each had their own budget (three times the requests)."""
    me = from_address("203.0.113.9")
    answers = [client.get(url, **me) for url in ("/api/v1/vocabulary", "/hsds/", "/fhir/Practitioner")]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    for url in ("/api/v1/rules", "/hsds/services", "/fhir/Location"):
        assert client.get(url, **me).status_code == 429, url
    assert client.get("/hsds/", **from_address("198.51.100.8")).status_code == 200  # another client's budget


def test_the_limits_are_documented_where_clients_read_them(client):
    description = client.get("/api/v1/openapi.json").get_json()["info"]["description"]
    assert DEFAULT_LIMIT in description and "X-RateLimit-Remaining" in description
    assert client.get("/api/v1/rules").headers["X-RateLimit-Limit"] == "60"  # the tighter of the default two


# --- CORS ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/vocabulary", "/api/v1/search?location=99999", "/api/v1/therapists/9"])
def test_any_origin_may_read_answers_and_errors_without_credentials(client, url):
    response = client.get(url, headers={"Origin": "https://referrals.example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "X-RateLimit-Remaining" in response.headers["Access-Control-Expose-Headers"]


def test_a_preflight_is_answered_for_reading_only(client):
    response = client.options(
        "/api/v1/search",
        headers={
            "Origin": "https://referrals.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["Access-Control-Allow-Headers"].lower() == "if-none-match"
    assert response.headers["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_the_site_itself_is_not_opened_to_other_origins(client):
    response = client.get("/about/safety", headers={"Origin": "https://referrals.example.org"})
    assert "Access-Control-Allow-Origin" not in response.headers


# --- conditional requests ------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/vocabulary", "/api/v1/rules", "/api/v1/openapi.json"])
def test_an_unchanged_answer_is_a_304_without_a_body(client, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first.headers["Cache-Control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    weak = client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304  # If-None-Match compares weakly (RFC 9110)
    head = client.head(url, headers={"If-None-Match": etag})
    assert head.status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_a_changed_search_answer_gets_a_new_etag(client, factory):
    url = "/api/v1/search?location=60601"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "private, no-cache"  # the query can carry health conditions
    factory.therapist(name="New Nearby")
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.get_json()["total"] == first.get_json()["total"] + 1
    assert second.headers["ETag"] != first.headers["ETag"]


def test_errors_carry_no_etag(client):
    response = client.get("/api/v1/search?location=60601&radius=0")
    assert response.status_code == 400 and "ETag" not in response.headers
