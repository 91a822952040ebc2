"""Uploaded files: checked by their content (never their name), kept through the
storage backend (a folder outside static/, or an S3-compatible bucket), and
served only through views that check who is asking."""

from __future__ import annotations

import contextlib
import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

from flask import Response, current_app
from PIL import Image, UnidentifiedImageError

from .service_errors import ServiceError
from .storage import Storage, StoredFileMissing

PHOTO_MAX_BYTES = 2 * 1024 * 1024
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_SIDE = 800
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding them


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


def _open_image(data: bytes) -> Image.Image:
    """A JPEG or PNG decoded fully, or UploadError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ("JPEG", "PNG"):
                raise UploadError("The file must be a JPEG or PNG image.")
            if probe.width * probe.height > MAX_PIXELS:
                raise UploadError("The image is too large in pixels.")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
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
        raise UploadError("The file is not a readable JPEG or PNG image.") from None
    return image


def check_photo(storage) -> CheckedFile:
    """A profile photo: JPEG or PNG up to 2 MB, re-encoded (metadata dropped) and resized."""
    data = _read_limited(storage, PHOTO_MAX_BYTES, "photo")
    image = _open_image(data)
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return CheckedFile(out.getvalue(), "image/png", "png", storage.filename or "photo")
    image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    return CheckedFile(out.getvalue(), "image/jpeg", "jpg", storage.filename or "photo")


def check_document(storage) -> CheckedFile:
    """A credential document: PDF, JPEG or PNG up to 5 MB, recognised by its content."""
    data = _read_limited(storage, DOCUMENT_MAX_BYTES, "document")
    name = (storage.filename or "document")[:200]
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise UploadError("The PDF looks incomplete or damaged. Save it again and upload it.")
        return CheckedFile(data, "application/pdf", "pdf", name)
    try:
        image = _open_image(data)
    except UploadError:
        raise UploadError("The document must be a PDF, JPEG or PNG file.") from None
    # Re-encode images so nothing but the picture is kept.
    out = io.BytesIO()
    if image.format == "PNG" or image.mode in ("RGBA", "LA", "P"):
        image.save(out, "PNG")
        return CheckedFile(out.getvalue(), "image/png", "png", name)
    image.convert("RGB").save(out, "JPEG", quality=90)
    return CheckedFile(out.getvalue(), "image/jpeg", "jpg", name)


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


def remove(kind: str, stored_name: str | None) -> None:
    if stored_name:
        with contextlib.suppress(StoredFileMissing):
            stored_files().delete(kind, stored_name)
