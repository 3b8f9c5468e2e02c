"""The providers' server-sent events are decoded as the WHATWG standard says, however the
bytes are split across reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from chat.providers.sse import ServerSentEvent, sse_decode


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def decode(parts: list[bytes]) -> list[ServerSentEvent]:
    async def run() -> list[ServerSentEvent]:
        return [event async for event in sse_decode(_chunks(parts))]

    return asyncio.run(run())


def test_fields_comments_and_multi_line_data() -> None:
    raw = (
        b": a comment\n"
        b"event: message_start\n"
        b"id: 7\n"
        b"retry: 1500\n"
        b'data: {"a":\n'
        b"data:1}\n"
        b"\n"
        b"data:no space after the colon\n\n"
        b"event: only-a-name\n\n"
        b"data: last, with no blank line"
    )

    events = decode([raw])

    assert events == [
        ServerSentEvent(data='{"a":\n1}', event="message_start", id="7", retry=1500),
        ServerSentEvent(data="no space after the colon", id="7", retry=1500),
        ServerSentEvent(data="last, with no blank line", id="7", retry=1500),
    ]  # an event with no data is dropped, as browsers drop it


def test_crlf_and_cr_line_endings_and_a_crlf_split_between_reads() -> None:
    events = decode([b"data: one\r", b"\n\r\ndata: two\r\rdata: three\r\n", b"\r\n"])

    assert [e.data for e in events] == ["one", "two", "three"]


def test_a_character_split_between_reads_and_unicode_line_separators_stay_in_the_data() -> None:
    text = "data: café \u2028 ☕\n\n".encode()
    split = text.index("é".encode()) + 1  # inside the two bytes of é

    [event] = decode([text[:split], text[split:]])

    assert event.data == "café \u2028 ☕"


DATA = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)),
    max_size=30,
)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@given(
    events=st.lists(st.tuples(st.lists(DATA, min_size=1, max_size=3), ENDINGS), max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_any_split_of_any_stream_decodes_to_the_same_events(
    events: list[tuple[list[str], str]], cuts: list[int]
) -> None:
    stream = "".join(
        "".join(f"data: {line}{end}" for line in lines) + end for lines, end in events
    ).encode()
    points = sorted({min(c, len(stream)) for c in cuts})
    parts = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]

    assert [e.data for e in decode(parts)] == ["\n".join(lines) for lines, _ in events]
