"""Uploaded files: checked by their content (never their name), kept through the
storage backend (a folder outside static/, or an S3-compatible bucket), and
served only through views that check who is asking."""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import uuid
import warnings
from dataclasses import dataclass

from flask import Response, current_app
from PIL import Image, UnidentifiedImageError

from .service_errors import ServiceError
from .storage import Storage, StoredFileMissing

PHOTO_MAX_BYTES = 2 * 1024 * 1024
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
# What each picture is for decides how many pixels we keep: a photo is shown at
# most a few hundred pixels wide and kept at 800 a side; a document image must
# stay legible to the admin who checks it, and is kept up to 3000 a side.
PHOTO_MAX_SIDE = 800
DOCUMENT_MAX_SIDE = 3000
# What decoding may cost. A baseline JPEG is decoded in draft mode: the decoder
# itself scales it down (1/2, 1/4, 1/8) to about the size we keep, so a large
# camera photo costs little. A PNG or a progressive JPEG is decoded whole, at
# Pillow's bytes per pixel, twice over when it has transparency (Pillow resizes
# premultiplied copies); its decoded size is held to DECODE_MAX_BYTES. One upload
# thus stays well under 100 MB (tests/test_upload_limits.py measures it).
MAX_PIXELS = 40_000_000
DECODE_MAX_BYTES = 40 * 1024 * 1024
# Pillow's bytes per pixel, plus the copy a mode that cannot be reduced as it is
# ("1", "P", "I;16") is converted to first.
BYTES_PER_PIXEL = {"1": 2, "L": 1, "P": 5, "I;16": 6, "LA": 4, "PA": 4, "RGB": 4, "RGBA": 4, "I": 4, "F": 4}
PROGRESSIVE_JPEG_BYTES_PER_PIXEL = 6  # libjpeg holds every coefficient of a progressive file
PDF_MAX_OBJECTS = 200_000
NOT_AN_IMAGE = "The file is not a readable JPEG or PNG image."


class UploadError(ServiceError):
    """A file we will not keep, and why."""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    content_type: str
    extension: str
    original_name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _read_limited(storage, max_bytes: int, what: str) -> bytes:
    data = storage.stream.read(max_bytes + 1)
    if not data:
        raise UploadError(f"The {what} is empty. Choose a file.")
    if len(data) > max_bytes:
        raise UploadError(f"The {what} is larger than {max_bytes // (1024 * 1024)} MB.")
    return data


def _decode_cost(probe: Image.Image) -> tuple[int, str] | None:
    """For an image decoded whole: (bytes per pixel it costs, what kind it is); None for draft-mode JPEGs."""
    if probe.format == "JPEG" and not probe.info.get("progressive"):
        return None
    if probe.format == "JPEG":
        return PROGRESSIVE_JPEG_BYTES_PER_PIXEL, "a progressive JPEG"
    has_alpha = "A" in probe.mode or "transparency" in probe.info
    per_pixel = BYTES_PER_PIXEL.get(probe.mode, 4) * (2 if has_alpha else 1)
    return per_pixel, "a PNG with transparency" if has_alpha else "a PNG"


def _check_size(probe: Image.Image, max_side: int) -> None:
    cost = _decode_cost(probe)
    per_pixel, kind = cost if cost else (1, "a JPEG")
    limit = min(MAX_PIXELS, DECODE_MAX_BYTES // per_pixel) if cost else MAX_PIXELS
    if probe.width * probe.height > limit:
        raise UploadError(
            f"The image is {probe.width}x{probe.height} pixels; as {kind} it may have at most "
            f"{limit / 1_000_000:.3g} million pixels. We keep at most {max_side} pixels a side: "
            "save a smaller copy and upload that."
        )


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The smallest size, in the image's proportions, whose longer side is still `max_side`."""
    scale = min(1.0, max_side / max(size))
    return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))


def _open_image(
    data: bytes, max_side: int, *, exact: bool, not_an_image: str = NOT_AN_IMAGE
) -> tuple[Image.Image, str]:
    """(A JPEG or PNG decoded at no more than `max_side` a side, its format), or
    UploadError: `not_an_image` when it is none, or why it is too large."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ("JPEG", "PNG"):
                raise UploadError(not_an_image)
            _check_size(probe, max_side)
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image_format = image.format or ""
            if image_format == "JPEG":
                image.draft("RGB", _draft_size(image.size, max_side))
            image.load()
            return _shrink(image, max_side, exact=exact), image_format
    except UploadError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise UploadError(not_an_image) from None


def _shrink(image: Image.Image, max_side: int, *, exact: bool) -> Image.Image:
    """At most `max_side` a side, by an integer box reduction of the full image
    (one cheap pass). `exact`: reduce to no less than `max_side`, then resize
    what is left (small by then) to `max_side` exactly."""
    if not exact:
        factor = math.ceil(max(image.size) / max_side)
        return _reducible(image).reduce(factor) if factor >= 2 else image
    factor = max(image.size) // max_side
    if factor >= 2:
        image = _reducible(image).reduce(factor)
    image.thumbnail((max_side, max_side))
    return image


def _reducible(image: Image.Image) -> Image.Image:
    """The image in a mode Pillow's reduce() takes."""
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    return image.convert({"1": "L", "I;16": "I"}[image.mode]) if image.mode in ("1", "I;16") else image


def _encode(image: Image.Image, *, keep_png: bool, quality: int) -> tuple[bytes, str, str]:
    """Re-encoded, so nothing but the picture is kept: (data, content type, extension)."""
    out = io.BytesIO()
    try:
        if keep_png or image.mode in ("RGBA", "LA", "P", "PA"):
            (image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16") else image.convert("RGBA")).save(
                out, "PNG"
            )
            return out.getvalue(), "image/png", "png"
        image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
    except (OSError, ValueError):
        raise UploadError(NOT_AN_IMAGE) from None
    return out.getvalue(), "image/jpeg", "jpg"


def check_photo(storage) -> CheckedFile:
    """A profile photo: JPEG or PNG up to 2 MB, re-encoded (metadata dropped) and resized."""
    data = _read_limited(storage, PHOTO_MAX_BYTES, "photo")
    image, _ = _open_image(data, PHOTO_MAX_SIDE, exact=True)
    encoded, content_type, extension = _encode(image, keep_png=False, quality=85)
    return CheckedFile(encoded, content_type, extension, storage.filename or "photo")


def check_document(storage) -> CheckedFile:
    """A credential document: PDF, JPEG or PNG up to 5 MB, recognised by its content."""
    data = _read_limited(storage, DOCUMENT_MAX_BYTES, "document")
    name = (storage.filename or "document")[:200]
    if data.startswith(b"%PDF-"):
        return CheckedFile(clean_pdf(data), "application/pdf", "pdf", name)
    # A scan is reduced by whole steps only: no resampling pass over a large image.
    image, image_format = _open_image(
        data, DOCUMENT_MAX_SIDE, exact=False, not_an_image="The document must be a PDF, JPEG or PNG file."
    )
    encoded, content_type, extension = _encode(image, keep_png=image_format == "PNG", quality=90)
    return CheckedFile(encoded, content_type, extension, name)


# What of a PDF is kept: its pages, and of each page only what draws it. Everything else
# (the catalog's /OpenAction, /AA, /AcroForm and XFA, /Names with scripts and embedded
# files, outlines with actions; a page's /AA and annotations) is left behind: an
# allowlist, so a kind of active content nobody thought of is dropped too.
_PAGE_KEYS = {"/Type", "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate", "/UserUnit", "/Group"}
_RESOURCE_KEYS = {"/Font", "/XObject", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading", "/ProcSet", "/Properties"}
# Keys that make a PDF act: none may be found anywhere in the rebuilt file.
_ACTIVE_KEYS = {
    "/A", "/AA", "/OpenAction", "/JS", "/JavaScript", "/AcroForm", "/XFA", "/EmbeddedFiles", "/EmbeddedFile",
    "/Launch", "/URI", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData", "/ResetForm", "/RichMedia", "/Annots",
}  # fmt: skip


def clean_pdf(data: bytes) -> bytes:
    """The PDF rebuilt from its pages alone, with no action, script, form, embedded file
    or annotation left (form fields and notes are first drawn into the page, so what the
    document shows is kept); UploadError when it cannot be read or cleaned."""
    import pikepdf  # here: only a document upload needs it, not every process

    try:
        with pikepdf.open(io.BytesIO(data)) as source, pikepdf.new() as clean:
            if len(source.objects) > PDF_MAX_OBJECTS:
                raise UploadError("The PDF is too complex to check. Print it to a new PDF and upload that.")
            if len(source.pages) == 0:
                raise UploadError("The PDF has no pages.")
            source.flatten_annotations(mode="all")  # what fields and notes show becomes page content
            for page in source.pages:
                _keep_only_what_draws(page.obj)
                clean.pages.append(page)
            found = _active_keys(clean)
            if found:
                raise UploadError(
                    f"The PDF keeps active content ({', '.join(sorted(found))}) where a page draws itself, so we "
                    "cannot clean it. Print it to a new PDF (or scan it) and upload that."
                )
            out = io.BytesIO()
            clean.save(out, compress_streams=True)
    except pikepdf.PasswordError:
        raise UploadError("The PDF is password-protected. Save a copy without a password and upload that.") from None
    except UploadError:
        raise
    except Exception:  # a parser can fail in many ways on a hostile file; each means "not a PDF we read"
        raise UploadError("The PDF could not be read: it looks damaged. Save it again and upload it.") from None
    return out.getvalue()


def _keep_only_what_draws(page) -> None:
    import pikepdf

    for key in list(page.keys()):
        if key not in _PAGE_KEYS | {"/Resources", "/Contents", "/Parent"}:
            del page[key]
    resources = page.get("/Resources")
    if isinstance(resources, pikepdf.Dictionary):
        for key in list(resources.keys()):
            if key not in _RESOURCE_KEYS:
                del resources[key]


def _active_keys(pdf) -> set[str]:
    """The action keys (and action types) found anywhere in `pdf`: in each indirect object
    and in the direct dictionaries and arrays nested inside it."""
    import pikepdf

    found: set[str] = set()
    stack = [pdf.trailer, *pdf.objects]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            keys = set(obj.keys())
            found |= keys & _ACTIVE_KEYS
            values = [obj[key] for key in keys]
        elif isinstance(obj, pikepdf.Array):
            values = [obj[i] for i in range(len(obj))]
        else:
            continue
        for value in values:
            if isinstance(value, pikepdf.Name) and str(value) in _ACTIVE_KEYS:
                found.add(str(value))
            elif isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
                stack.append(value)
    return found


def stored_files() -> Storage:
    """The application's storage backend (storage.from_url, chosen by STORAGE_URL at start-up)."""
    return current_app.extensions["storage"]


def store(kind: str, checked: CheckedFile) -> str:
    """Keep the file under a random name; the name."""
    name = f"{uuid.uuid4().hex}.{checked.extension}"
    stored_files().put(kind, name, checked.data, checked.content_type)
    return name


def read(kind: str, stored_name: str) -> bytes:
    """A stored file's bytes; StoredFileMissing (a FileNotFoundError) if there is none."""
    return stored_files().read(kind, stored_name)


def send(kind: str, stored_name: str, **send_file_options) -> Response:
    """A response carrying the stored file (send_file's options); StoredFileMissing if there is none.
    The caller has already checked who may see it."""
    return stored_files().send(kind, stored_name, **send_file_options)


# A stored document (a license, a certificate, a letter of medical necessity) is never shown
# by the browser as a page of this site: always a download, which no script of it may run in.
DOCUMENT_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}


def send_document(kind: str, stored_name: str, content_type: str, download_name: str) -> Response:
    """A stored document as a download (Content-Disposition: attachment) with DOCUMENT_HEADERS;
    StoredFileMissing if there is none. The caller has already checked who may see it."""
    options = {"mimetype": content_type, "download_name": download_name, "as_attachment": True, "max_age": 0}
    return guard_document(send(kind, stored_name, **options))


def guard_document(response: Response) -> Response:
    """DOCUMENT_HEADERS on a response that already carries a document as an attachment."""
    if not response.headers.get("Content-Disposition", "").startswith("attachment"):
        raise ValueError("a stored document leaves only as an attachment")
    response.headers.update(DOCUMENT_HEADERS)
    return response


def remove(kind: str, stored_name: str | None) -> None:
    if stored_name:
        with contextlib.suppress(StoredFileMissing):
            stored_files().delete(kind, stored_name)
