"""Therapist profiles: listing, import and demo data (services, no Flask views)."""
