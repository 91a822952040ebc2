"""The directory by open standards: Open Referral HSDS 3.0 (/hsds) and HL7 FHIR
R4 with the Da Vinci Plan-Net profiles (/fhir). Read-only, listable therapists only."""

from flask import Blueprint

hsds_bp = Blueprint("hsds", __name__)
fhir_bp = Blueprint("fhir", __name__)

from . import views  # noqa: E402,F401
