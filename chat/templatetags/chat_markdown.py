from django import template
from django.utils.safestring import SafeString

from chat.markdown import markdown_render

register = template.Library()


@register.filter(name="markdown")
def markdown(text: str) -> SafeString:
    """`{{ message.content|markdown }}`: escaped first, see chat/markdown.py."""
    return markdown_render(text or "")
