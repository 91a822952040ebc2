"""The JSON shapes the API answers with."""
from flask import url_for

from ..models import TherapistProfile


def license_json(profile: TherapistProfile) -> dict | None:
    lic = profile.current_license
    if lic is None:
        return None
    return {
        "state": lic.state,
        "number": lic.number,
        "expires": lic.expires_on.isoformat(),
        "verified": lic.verified_at.date().isoformat() if lic.is_current and lic.verified_at else None,
    }


def therapist_json(profile: TherapistProfile) -> dict:
    return {
        "id": profile.id,
        "name": profile.name,
        "url": url_for("public.therapist", therapist_id=profile.id, _external=True),
        "bio": profile.bio,
        "techniques": profile.technique_slugs,
        "certifications": [c.slug for c in profile.verified_certifications],
        "license": license_json(profile),
        "prices": [
            {"session_minutes": p.minutes, "amount": float(p.amount), "currency": "USD"}
            for p in profile.prices
        ],
        "hsa_fsa": profile.hsa_fsa,
        "gender": profile.gender,
        "languages": profile.language_codes,
        "accepting_new_clients": profile.accepting_new_clients,
        "years_experience": profile.years_experience,
        "mobile_radius_miles": profile.mobile_radius_miles,
        "city": profile.city,
        "state": profile.state,
        "postal_code": profile.postal_code,
    }
