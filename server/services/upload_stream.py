"""Reading a multipart upload as it streams in: the file part straight into a server-made file, stopping at the
size limit (with or without a Content-Length), small text fields kept in memory within their own limits.

Nothing is spooled to a temporary folder first, so the route can authenticate from the headers and refuse an
oversized body after at most one chunk beyond the limit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from server.api.errors import Problem

MAX_FIELD_BYTES = 4096  # a text field of the upload form (exercise id, patient or programme id)
MAX_FIELDS = 16


@dataclass
class StreamedUpload:
    """What a multipart upload held: its text fields, and the file part (written to ``path``)."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    path: Path | None = None
    size: int = 0


def _bad_form(detail: str) -> Problem:
    return Problem(422, detail, "Invalid upload form")


class _Receiver:
    """Parser callbacks: headers of each part, then its data to the file or to a field."""

    def __init__(self, file_field: str, new_path: Callable[[], Path], limit: int, too_large: Callable[[], Problem]):
        self.file_field, self.new_path, self.limit, self.too_large = file_field, new_path, limit, too_large
        self.result = StreamedUpload()
        self._header_name, self._header_value = bytearray(), bytearray()
        self._headers: dict[str, str] = {}
        self._name: str | None = None
        self._value = bytearray()
        self._out: int | None = None  # file descriptor of the file part

    def on_part_begin(self) -> None:
        self._headers, self._name, self._value = {}, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = self._header_value.decode("latin-1")
        self._header_name, self._header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name")
        if disposition != b"form-data" or name is None:
            raise _bad_form("Each part of the upload form needs a Content-Disposition: form-data with a name.")
        self._name = name.decode("utf-8", "replace")
        if self._name == self.file_field:
            if self.result.path is not None:
                raise _bad_form(f"Send one file ({self.file_field}) per upload.")
            self.result.filename = options.get(b"filename", b"").decode("utf-8", "replace") or None
            self.result.path = self.new_path()
            self._out = os.open(self.result.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        elif len(self.result.fields) >= MAX_FIELDS:
            raise _bad_form(f"The upload form has more than {MAX_FIELDS} fields.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self.result.size += end - start
            if self.result.size > self.limit:
                raise self.too_large()
            os.write(self._out, data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FIELD_BYTES:
            raise _bad_form(f"The form field {self._name!r} is longer than {MAX_FIELD_BYTES} bytes.")

    def on_part_end(self) -> None:
        if self._out is not None:
            os.close(self._out)
            self._out = None
        elif self._name is not None:
            try:
                self.result.fields[self._name] = self._value.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad_form(f"The form field {self._name!r} is not UTF-8 text.") from None

    def close(self) -> None:
        if self._out is not None:
            os.close(self._out)
            self._out = None

    def callbacks(self) -> dict:
        return {name: getattr(self, name) for name in (
            "on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
            "on_part_data", "on_part_end")}


async def receive_multipart(request: Request, *, file_field: str, new_path: Callable[[], Path], limit: int,
                            too_large: Callable[[], Problem]) -> StreamedUpload:
    """Stream a ``multipart/form-data`` body: the ``file_field`` part into ``new_path()`` (mode 0600), at most
    ``limit`` bytes (``too_large()`` is raised at the first byte past it), the other parts as text fields. On
    any failure the partial file is removed."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise Problem(415, f"Send the video as multipart/form-data with the video in the field {file_field!r}.",
                      "Not a form upload")
    receiver = _Receiver(file_field, new_path, limit, too_large)
    parser = MultipartParser(options[b"boundary"], receiver.callbacks())
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if receiver._out is not None:  # the body ended inside the file part
            raise Problem(400, "The upload ended before the whole form arrived.", "Upload interrupted")
        return receiver.result
    except BaseException as exc:
        receiver.close()
        if receiver.result.path is not None:
            receiver.result.path.unlink(missing_ok=True)
        if isinstance(exc, MultipartParseError):
            raise _bad_form("The upload form is not valid multipart/form-data.") from None
        if isinstance(exc, ClientDisconnect):
            raise Problem(400, "The upload was interrupted before it ended.", "Upload interrupted") from None
        raise
