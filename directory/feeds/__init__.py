"""The directory by open standards: Open Referral HSDS 3.0 (/hsds) and HL7 FHIR
R4 with the Da Vinci Plan-Net profiles (/fhir). Read-only, listable therapists only."""

from flask import Blueprint

from ..fair_api import make_fair

# Each feed is a fair public API: its own per-client rate limit, CORS for reading, ETag / 304.
hsds_bp = make_fair(Blueprint("hsds", __name__))
fhir_bp = make_fair(Blueprint("fhir", __name__))

from . import views  # noqa: E402,F401
