"""Jinja filters and globals: labels for slugs, money and dates."""

from datetime import UTC, date, datetime
from decimal import Decimal

from . import vocabulary as v
from .therapists import visibility


def money(amount) -> str:
    if amount is None:
        return ""
    amount = Decimal(str(amount))
    return f"${amount:,.0f}" if amount == amount.to_integral() else f"${amount:,.2f}"


def long_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return f"{value:%B} {value.day}, {value.year}" if isinstance(value, date) else str(value)


def register(app):
    app.jinja_env.filters.update(
        money=money,
        long_date=long_date,
        technique_label=lambda s: v.label(v.TECHNIQUES, s),
        certification_label=lambda s: v.label(v.CERTIFICATIONS, s),
        language_name=lambda s: v.label(v.LANGUAGES, s),
        state_name=lambda s: v.label(v.STATES, s),
        gender_label=lambda s: v.label(v.GENDERS, s) if s else "",
        credential_label=lambda s: v.CREDENTIAL_KINDS.get(s or "", s),
        goal_label=lambda s: v.label(v.GOALS, s),
        condition_label=lambda s: v.label(v.CONDITIONS, s),
    )

    app.jinja_env.filters["tz"] = lambda profile: profile.zone
    app.jinja_env.globals.update(vocab=v, has_endpoint=lambda name: name in app.view_functions, utc=UTC)
    # What of a practice's place a page may show: the one rule (therapists/visibility.py).
    app.jinja_env.globals.update(place_of=visibility.place_of, audience=visibility.Audience)
