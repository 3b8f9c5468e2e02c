"""Answers are rendered from Markdown with raw HTML off and then sanitised: a model can never
inject HTML, and the browser shows only what this renderer made."""

from __future__ import annotations

import re

import pytest

from chat.markdown import AnswerHtml, markdown_render

SAMPLES = [
    "Hello **bold** and *it* <script>alert(1)</script>\nline2\n\n```python\nx = \"<b>\" & 'y'\n```",
    "- a\n- b `c**d**`\n1. one\n# Head",
    "```\nunclosed <i>",
    "a * b * c and 2*3*4",
    "- item one\n  continues\n- two\n\npara",
    '```js" onload="x\nz\n```',
    "<img src=x onerror=alert(1)> [link](javascript:alert(1))",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_no_raw_tag_or_attribute_from_the_text_survives(text: str) -> None:
    html = markdown_render(text)

    for dangerous in ("<script", "<img", "<b>", "<i>", 'onload="', "href="):
        assert dangerous not in html


def compact(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


def test_code_fences_inline_code_emphasis_lists_and_paragraphs() -> None:
    html = compact(markdown_render(SAMPLES[0] + "\n\n" + SAMPLES[1]))

    assert "<p>Hello <strong>bold</strong> and <em>it</em> &lt;script&gt;" in html
    assert "<br>line2</p>" in html or "<br>\nline2</p>" in html
    assert '<pre><code class="language-python">x = "&lt;b&gt;" &amp; \'y\'' in html
    assert "<ul><li>a</li><li>b <code>c**d**</code></li></ul><ol><li>one</li></ol>" in html
    assert '<p class="md-heading"><strong>Head</strong></p>' in html


def test_an_unclosed_fence_mid_stream_still_renders_as_code() -> None:
    assert (
        compact(markdown_render("```\nunclosed <i>"))
        == "<pre><code>unclosed &lt;i&gt;</code></pre>"
    )


def test_multiplication_is_not_italics() -> None:
    assert compact(markdown_render("a * b * c and 2*3*4")) == "<p>a * b * c and 2*3*4</p>"


def test_a_fence_language_cannot_carry_an_attribute() -> None:
    html = str(markdown_render('```js" onload="x\nz\n```\n\n```py\nok\n```'))

    assert 'class="language-py"' in html
    assert "onload" not in html and html.count("class=") == 1


def test_links_images_and_raw_html_stay_text() -> None:
    html = str(markdown_render("[docs](https://example.com) ![x](y.png) <b>hi</b> https://e.com"))

    assert "<a" not in html and "<img" not in html and "<b>" not in html
    assert "[docs](https://example.com)" in html and "&lt;b&gt;hi&lt;/b&gt;" in html


def test_a_streaming_answer_is_re_rendered_at_most_every_tenth_of_a_second() -> None:
    answer = AnswerHtml()

    first = answer.add("**bold")
    second = answer.add("** text")

    assert first == str(markdown_render("**bold"))
    assert second is None  # too soon: the browser shows the raw delta until the next render
    assert answer.html() == str(markdown_render("**bold** text"))
