"""The product's public vocabulary: slugs and the labels people read.

Drawn from the domain notes (the article on therapeutic massage). Slugs appear
in URLs, the JSON API, import files and forms, so they must stay stable.
"""

from __future__ import annotations

TECHNIQUES: dict[str, str] = {
    "swedish": "Swedish massage",
    "deep_tissue": "Deep tissue massage",
    "sports": "Sports massage",
    "trigger_point": "Trigger point therapy",
    "reflexology": "Reflexology",
    "prenatal": "Prenatal massage",
    "oncology": "Oncology massage",
}

CERTIFICATIONS: dict[str, str] = {
    "prenatal": "Certified prenatal massage therapist",
    "oncology": "Oncology massage training",
    "sports": "Sports massage certification",
    "reflexology": "Reflexology certification",
    "board_certified": "National board certification",
}


# What the techniques that serve each goal are lives with the other matching
# rules, in matching/rules.py.
GOALS: dict[str, str] = {
    "stress": "Stress and anxiety relief",
    "sleep": "Better sleep",
    "pain": "Chronic pain and tension",
    "headaches": "Tension headaches",
    "circulation": "Circulation, swelling, healing",
    "mobility": "Flexibility and range of motion",
    "injury_recovery": "Recovery from injury",
    "athletic": "Athletic performance and recovery",
    "posture": 'Postural strain, "tech neck"',
    "wellness": "General wellness",
    "post_event": "Recovery after an event, or acute stress",
}

# What each condition does to a match lives in matching/rules.py.
ABSOLUTE_CONDITIONS: dict[str, str] = {
    "fever": "Fever or contagious illness",
    "skin_infection": "Skin infection, rash or open wound",
    "blood_clot": "Blood clot or deep vein thrombosis (DVT)",
    "recent_surgery": "Recent surgery or fracture",
    "severe_cardiovascular": "Severe or uncontrolled cardiovascular condition",
    "inflammatory_flare": (
        "Acute inflammation now: a flare-up (hot, swollen, painful joints or tissue), e.g. of rheumatoid arthritis"
    ),
}

RELATIVE_CONDITIONS: dict[str, str] = {
    "pregnancy_first_trimester": "Pregnant, first trimester",
    "pregnancy": "Pregnant, second or third trimester",
    "cancer_treatment": "In cancer treatment",
    "varicose_veins": "Varicose veins",
    "inflammatory_condition": "Inflammatory condition such as rheumatoid arthritis, not flaring now",
    "low_blood_pressure": "Low blood pressure or dizziness",
}

CONDITIONS: dict[str, str] = {**ABSOLUTE_CONDITIONS, **RELATIVE_CONDITIONS}

BODY_AREAS: dict[str, str] = {
    "neck": "Neck",
    "shoulders": "Shoulders",
    "back": "Back",
    "arms": "Arms",
    "hands": "Hands",
    "legs": "Legs",
    "feet": "Feet",
    "face": "Face",
    "full_body": "Full body",
}

FREQUENCIES: dict[str, str] = {
    "weekly_or_biweekly": "Once a week or every two weeks",
    "monthly": "Once or twice a month",
    "single_session": "A single session",
}

SESSION_LENGTHS: tuple[int, ...] = (30, 45, 60, 90)

GENDERS: dict[str, str] = {"female": "Female", "male": "Male", "nonbinary": "Nonbinary"}

# ISO 639-1 codes for the languages most often spoken in US homes.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "zh": "Chinese",
    "tl": "Tagalog",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "fr": "French",
    "ko": "Korean",
    "ru": "Russian",
    "de": "German",
    "ht": "Haitian Creole",
    "hi": "Hindi",
    "pt": "Portuguese",
    "it": "Italian",
    "pl": "Polish",
    "ur": "Urdu",
    "fa": "Persian",
    "ja": "Japanese",
    "el": "Greek",
    "gu": "Gujarati",
    "bn": "Bengali",
    "pa": "Punjabi",
    "te": "Telugu",
    "ta": "Tamil",
    "uk": "Ukrainian",
    "he": "Hebrew",
    "hy": "Armenian",
    "th": "Thai",
    "km": "Khmer",
    "so": "Somali",
    "am": "Amharic",
    "yi": "Yiddish",
    "nl": "Dutch",
    "sv": "Swedish",
    "tr": "Turkish",
    "ro": "Romanian",
    "sr": "Serbian",
    "hu": "Hungarian",
    "sw": "Swahili",
    "id": "Indonesian",
}

STATES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}

# States that issue no massage license (product rule, from the regulators' lists):
# the therapist shows the credential they do hold instead.
NO_LICENSE_STATES: dict[str, str] = {
    "KS": "Kansas does not regulate massage therapy",
    "MN": "Minnesota does not regulate massage therapy",
    "WY": "Wyoming does not regulate massage therapy",
    "VT": "Vermont registers massage therapists but issues no license",
    "CA": "California's CAMTC certificate is voluntary; the state issues no license",
}

# What a therapist in a no-license state submits instead ("" = a state license).
CREDENTIAL_KINDS: dict[str, str] = {
    "": "State massage license",
    "camtc": "CAMTC certificate (California Massage Therapy Council)",
    "national_board": "National board certification (NCBTMB)",
    "state_registration": "State registration (Vermont)",
}

STANDING_ADVICE: tuple[str, ...] = (
    "Tell your therapist about any medical conditions, medications or injuries.",
    "Possible after-effects are muscle soreness, bruising or skin irritation.",
)


def label(table: dict[str, str], slug: str) -> str:
    return table.get(slug, slug)


def vocabulary() -> dict[str, list[dict[str, str]]]:
    """Every slug with its label, for the API and forms."""

    def rows(table):
        return [{"slug": s, "label": label(table, s)} for s in table]

    return {
        "techniques": rows(TECHNIQUES),
        "certifications": rows(CERTIFICATIONS),
        "goals": rows(GOALS),
        "conditions_absolute": rows(ABSOLUTE_CONDITIONS),
        "conditions_relative": rows(RELATIVE_CONDITIONS),
        "body_areas": rows(BODY_AREAS),
        "frequencies": rows(FREQUENCIES),
        "session_lengths": [{"slug": str(m), "label": f"{m} minutes"} for m in SESSION_LENGTHS],
        "genders": rows(GENDERS),
        "languages": rows(LANGUAGES),
        "states": rows(STATES),
    }
