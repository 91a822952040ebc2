"""The JSON shapes the API answers with."""

from ..links import public_url
from ..models import TherapistProfile
from ..therapists.visibility import place_of


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
    place = place_of(profile)  # the area only, for a home practice that hides its street
    return {
        "id": profile.id,
        "name": profile.name,
        "url": public_url("public.therapist", therapist_id=profile.id),
        "bio": profile.bio,
        "techniques": profile.technique_slugs,
        "certifications": [c.slug for c in profile.verified_certifications],
        "license": license_json(profile),
        "prices": [
            {"session_minutes": p.minutes, "amount": float(p.amount), "currency": "USD"} for p in profile.prices
        ],
        "hsa_fsa": profile.hsa_fsa,
        "gender": profile.gender,
        "languages": profile.language_codes,
        "accepting_new_clients": profile.accepting_new_clients,
        "years_experience": profile.years_experience,
        "mobile_radius_miles": profile.mobile_radius_miles,
        "rating": {"average": profile.rating_average, "count": profile.rating_count},
        "city": place.city,
        "state": place.state,
        "postal_code": place.postal_code,
    }


def search_json(result) -> dict:
    """The /api/v1/search answer (see the matching issue for its shape)."""
    outcome, place = result.outcome, result.place
    results = []
    for m in outcome.results:
        c, lic = m.candidate, result.licenses.get(m.candidate.id)
        results.append(
            {
                "id": c.id,
                "name": c.name,
                "url": public_url("public.therapist", therapist_id=c.id),
                "distance_miles": round(m.distance_miles, 2),
                "score": m.score,
                "reasons": list(m.reasons),
                "techniques": sorted(c.techniques),
                "certifications": sorted(c.certifications),
                "license": {
                    "state": lic.state,
                    "number": lic.number,
                    "expires": lic.expires_on.isoformat(),
                    "verified": lic.verified_at.date().isoformat() if lic.verified_at else None,
                }
                if lic
                else None,
                "price": {"session_minutes": outcome.plan.session_minutes, "amount": m.price, "currency": "USD"},
                "cost": outcome.plan.cost(m.price),
                "hsa_fsa": c.hsa_fsa,
                "gender": c.gender,
                "languages": list(c.languages),
                "accepting_new_clients": c.accepting_new_clients,
                "mobile_radius_miles": c.mobile_radius_miles,
                "years_experience": c.years_experience,
                "rating": {"average": c.rating_average, "count": c.rating_count},
                "city": c.extra["city"],
                "state": c.extra["state"],
                "postal_code": c.extra["postal_code"],
            }
        )
    return {
        "location": {
            "query": place.query,
            "label": place.label,
            "latitude": place.latitude,
            "longitude": place.longitude,
        }
        if place
        else None,  # an absolute condition is answered without a place
        "radius_miles": result.radius_miles,
        "home_visit": result.home_visit,
        "safety": outcome.screen.as_dict(),
        "ruled_out": outcome.ruled_out,
        "plan": outcome.plan.as_dict(),
        "total": outcome.total,
        "offset": result.offset,
        "limit": result.limit,
        "explanation": outcome.explanation,
        "suggestions": outcome.suggestions,
        "results": results,
    }
