"""Small previews of photo evidence, so that a reviewer judges a photo without downloading it
and a secretary picks an earlier file on a phone by its picture (issue 11, points 17 and 20).

A preview is made on first request and kept beside the evidence files; it is a cache that
can be deleted at any time, not a record."""

import logging
from io import BytesIO
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = (320, 320)

logger = logging.getLogger(__name__)


def thumbnail_name(attachment):
    """Named after the stored file (a random name, never reused), not the attachment's id: an
    id comes again after the database is rebuilt or a row deleted, and a reviewer would be
    shown an earlier file's picture."""
    return f"thumbnails/{PurePosixPath(attachment.file.name).stem}.jpg"


def thumbnail_open(attachment):
    """The preview as an open file, made now if need be; None for a file that is no photo or
    cannot be read (the page then shows its name only)."""
    if not attachment.is_photo:
        return None
    name = thumbnail_name(attachment)
    if not default_storage.exists(name):
        try:
            with attachment.file.open("rb") as source, Image.open(source) as image:
                image = ImageOps.exif_transpose(image)
                image.thumbnail(SIZE)
                buffer = BytesIO()
                image.convert("RGB").save(buffer, "JPEG", quality=80)
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
            logger.warning("No preview for attachment %s", attachment.pk, exc_info=True)
            return None
        name = default_storage.save(name, ContentFile(buffer.getvalue()))
    return default_storage.open(name, "rb")
