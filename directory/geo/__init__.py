"""Geography without a database: the offline gazetteer, distances, boxes."""

from .distance import METERS_PER_MILE, bounding_box, distance_miles, local_distance, local_scale
from .gazetteer import GazetteerGeocoder, PlaceNotFound, ZipPlace, gazetteer, lookup_zip, normalise_city, parse_lat_lon

__all__ = [
    "METERS_PER_MILE",
    "bounding_box",
    "distance_miles",
    "local_distance",
    "local_scale",
    "GazetteerGeocoder",
    "PlaceNotFound",
    "ZipPlace",
    "gazetteer",
    "lookup_zip",
    "normalise_city",
    "parse_lat_lon",
]
