"""Answers are rendered from Markdown after escaping: a model can never inject HTML."""

from __future__ import annotations

import pytest

from chat.markdown import markdown_render

# Shared with tests/e2e (the browser renders streaming answers with chat.js's copy).
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


def test_code_fences_inline_code_emphasis_lists_and_paragraphs() -> None:
    html = markdown_render(SAMPLES[0] + "\n\n" + SAMPLES[1])

    assert "<p>Hello <strong>bold</strong> and <em>it</em> &lt;script&gt;" in html
    assert "<br>line2</p>" in html
    assert '<pre data-language="python"><code>x = &quot;&lt;b&gt;&quot; &amp; &#x27;y&#x27;' in html
    assert "<ul><li>a</li><li>b <code>c**d**</code></li></ul><ol><li>one</li></ol>" in html
    assert '<p class="md-heading"><strong>Head</strong></p>' in html


def test_an_unclosed_fence_mid_stream_still_renders_as_code() -> None:
    assert markdown_render("```\nunclosed <i>") == "<pre><code>unclosed &lt;i&gt;</code></pre>"


def test_multiplication_is_not_italics() -> None:
    assert markdown_render("a * b * c and 2*3*4") == "<p>a * b * c and 2*3*4</p>"
