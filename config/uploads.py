"""Upload limits applied while the request body is parsed, so that an oversized upload becomes a
form error on the page it came from (what was typed kept), not a bare 400 or a full disk.

- A request whose declared Content-Length exceeds UPLOAD_MAX_REQUEST_BYTES keeps none of its files:
  each is replaced, before any of its bytes is stored, by a RefusedUpload of the declared size that
  says why; the size checks of the forms and services (evidence, Excel import) refuse it with their
  Chinese message. The body is still drained (and discarded) so that the browser receives the page;
  the reverse proxy's body limit (README, "Security") bounds how much that can be.
- Past UPLOAD_MAX_FILES files the rest are RefusedUploads as well (and past ten times as many the
  parsing stops); Django's own count limit (DATA_UPLOAD_MAX_NUMBER_FILES, a bare 400) is off, so
  that the forms' own count rule (e.g. EVIDENCE_MAX_FILES per record) answers with its message.
"""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.utils.translation import gettext as _


class _EmptyOfDeclaredSize(io.RawIOBase):
    """No content, but seeking to the end reports the declared size (so size checks that seek and
    tell, like the Excel import's, see how big the file was said to be)."""

    def __init__(self, size):
        self._size, self._position = size, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        self._position = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence] + offset
        return self._position

    def tell(self):
        return self._position

    def readinto(self, buffer):
        return 0


class RefusedUpload(UploadedFile):
    """Stands for a file whose content was not kept; `refused` says why, for the form's error."""

    def __init__(self, *, name, content_type, size, refused):
        super().__init__(_EmptyOfDeclaredSize(size), name=name, content_type=content_type, size=size)
        self.refused = refused


class UploadLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: decides from the headers, before any file byte is stored.
    A refused file goes to no later handler (StopFutureHandlers) and its chunks are dropped."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        megabytes = 1024 * 1024
        self.declared, self.count, self.skip, self.refused = content_length, 0, False, ""
        if content_length > settings.UPLOAD_MAX_REQUEST_BYTES:
            self.refused = _(
                "The files sent at once come to %(size)s MB, more than the %(limit)s MB allowed: "
                "send fewer or smaller files at a time."
            ) % {"size": -(-content_length // megabytes), "limit": settings.UPLOAD_MAX_REQUEST_BYTES // megabytes}

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.count += 1
        if self.count > 10 * settings.UPLOAD_MAX_FILES:
            raise StopUpload(connection_reset=False)  # no more placeholders either
        if self.count > settings.UPLOAD_MAX_FILES and not self.refused:
            self.refused = _("More than %(limit)s files were sent at once: send fewer files at a time.") % {
                "limit": settings.UPLOAD_MAX_FILES
            }
        self.skip = bool(self.refused)
        if self.skip:
            raise StopFutureHandlers  # only this handler sees the file: nothing is stored

    def receive_data_chunk(self, raw_data, start):
        return None if self.skip else raw_data

    def file_complete(self, file_size):
        if not self.skip:
            return None
        size = self.declared if self.declared > settings.UPLOAD_MAX_REQUEST_BYTES else file_size
        return RefusedUpload(name=self.file_name, content_type=self.content_type, size=size, refused=self.refused)
