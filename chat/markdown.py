"""A small, safe Markdown renderer for model answers: escape everything, then add a few tags.

Models write Markdown, and their output is untrusted text: a reply may contain `<script>`
or an `onerror=` attribute because a user asked for it, or because a prompt injection did.
So the whole text is HTML-escaped first, and only the tags added below can appear in the
result: fenced code blocks, inline code, bold, italics, headings, lists and paragraphs.
No links and no images: a URL from a model is shown as text, never made clickable.

`static/js/chat.js` renders a streaming answer with the same rules (and the page swaps in
this server rendering once the answer is stored), so keep the two in step.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FENCE = re.compile(r"^\s*```\s*([\w+#.-]*)\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")


def markdown_render(text: str) -> SafeString:
    """Escaped HTML for a Markdown answer; an unclosed fence (mid-stream) still renders."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    code: list[str] | None = None
    language = ""

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append(f"<p>{'<br>'.join(_inline(line) for line in paragraph)}</p>")
            paragraph.clear()
        if items:
            rows = "".join(f"<li>{_inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}>{rows}</{list_tag}>")
            items.clear()
            list_tag = ""

    for line in escape(text).split("\n"):
        if code is not None:
            if FENCE.match(line):
                blocks.append(_code_block(code, language))
                code = None
            else:
                code.append(line)
            continue
        if fence := FENCE.match(line):
            flush()
            code, language = [], fence[1]
        elif not line.strip():
            flush()
        elif heading := HEADING.match(line):
            flush()
            blocks.append(f'<p class="md-heading"><strong>{_inline(heading[2])}</strong></p>')
        elif item := BULLET.match(line) or NUMBERED.match(line):
            tag = "ul" if BULLET.match(line) else "ol"
            if paragraph or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append(item[1])
        elif items:
            items[-1] += " " + line.strip()  # a wrapped list item
        else:
            paragraph.append(line)
    if code is not None:
        blocks.append(_code_block(code, language))
    flush()
    return mark_safe("".join(blocks))  # noqa: S308 - built only from escaped text


def _code_block(lines: list[str], language: str) -> str:
    label = f' data-language="{language}"' if language else ""
    return f"<pre{label}><code>{chr(10).join(lines)}</code></pre>"


def _inline(text: str) -> str:
    """Code spans first, so `**` inside them stays literal; then bold and italics."""
    parts = CODE_SPAN.split(text)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(f"<code>{part}</code>")
        else:
            out.append(ITALIC.sub(r"<em>\1</em>", BOLD.sub(r"<strong>\1</strong>", part)))
    return "".join(out)
