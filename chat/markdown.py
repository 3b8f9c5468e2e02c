"""Model answers as safe HTML: markdown-it-py with raw HTML off, then nh3 (ammonia) keeping only
the tags Markdown produces. The one renderer: the browser shows the fragments it makes, for
stored answers (`{{ message.content|markdown }}`) and while an answer streams (`AnswerHtml`).

An answer is untrusted text: it may contain `<script>` or `onerror=` because a user asked for
it or because a prompt injection did. Links and images are not rendered at all: a URL from a
model stays text, never clickable.
"""

from __future__ import annotations

import re
import time

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

RENDER_EVERY_SECONDS = 0.1  # while streaming: re-render at most this often
TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "hr"}
_LANGUAGE = re.compile(r"language-[\w+#.-]{1,30}")


def _heading_open(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # An answer's headings are not the page's: shown as a bold line, outside the outline.
    return '<p class="md-heading"><strong>'


def _heading_close(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "</strong></p>\n"


def _multiplication(state: StateInline, silent: bool) -> bool:
    """`2*3*4` is arithmetic, not emphasis: a `*` between two digits stays a literal star."""
    pos = state.pos
    if state.src[pos] != "*" or pos == 0 or pos + 1 >= state.posMax:
        return False
    if not (state.src[pos - 1].isdigit() and state.src[pos + 1].isdigit()):
        return False
    if not silent:
        state.push("text", "", 0).content = "*"
    state.pos += 1
    return True


_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(
    ["link", "image", "autolink", "reference"]
)
_markdown.inline.ruler.before("emphasis", "multiplication", _multiplication)
_markdown.add_render_rule("heading_open", _heading_open)
_markdown.add_render_rule("heading_close", _heading_close)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "code" and attribute == "class":
        return value if _LANGUAGE.fullmatch(value) else None
    if tag == "p" and attribute == "class":
        return value if value == "md-heading" else None
    return value


def markdown_render(text: str) -> SafeString:
    """Sanitised HTML for a Markdown answer; an unclosed fence (mid-stream) still renders."""
    html = _markdown.render(text)
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes={"code": {"class"}, "p": {"class"}},
        attribute_filter=_attribute_filter,
        url_schemes=set(),
        link_rel=None,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


class AnswerHtml:
    """The HTML of an answer as it streams in, re-rendered at most every RENDER_EVERY_SECONDS."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self._rendered_at = 0.0

    def add(self, text: str) -> str | None:
        """Append a delta; the whole answer's HTML when it is time to re-render, else None."""
        self.text.append(text)
        now = time.monotonic()
        if now - self._rendered_at < RENDER_EVERY_SECONDS:
            return None
        self._rendered_at = now
        return self.html()

    def html(self) -> str:
        return str(markdown_render("".join(self.text)))
