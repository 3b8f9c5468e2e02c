"""Server-sent events as the WHATWG HTML standard decodes them ("Interpreting an event stream").

Providers stream their answers this way. Every field is honoured: `data` over several lines
(joined with newlines), `event`, `id`, `retry`, comments, a leading space after the colon,
and LF, CRLF or CR line endings; an event is dispatched at a blank line, and one with no data
is dropped, as browsers do.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Turns lines (without their endings) into events, one line at a time."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id = ""
        self._retry: int | None = None

    def line(self, line: str) -> ServerSentEvent | None:
        """The event this line completes (a blank line), or None."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent("\n".join(data), event or "message", self._id, self._retry)


async def sse_decode(chunks: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """The events in a byte stream, however its chunks split lines or UTF-8 characters."""
    decoder, utf8, buffer = SSEDecoder(), codecs.getincrementaldecoder("utf-8")("replace"), ""
    async for chunk in chunks:
        text = buffer + utf8.decode(chunk)
        # A CR at the end may be the first half of a CRLF: keep it for the next chunk.
        cut = len(text) - 1 if text.endswith("\r") else len(text)
        *lines, rest = _LINE_END.split(text[:cut])
        buffer = rest + text[cut:]
        for line in lines:
            if (event := decoder.line(line)) is not None:
                yield event
    for line in _LINE_END.split(buffer + utf8.decode(b"", final=True)):
        if (event := decoder.line(line)) is not None:
            yield event
    if (event := decoder.line("")) is not None:  # a stream may end without its blank line
        yield event
