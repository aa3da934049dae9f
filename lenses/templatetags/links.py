from django import template

register = template.Library()


@register.filter
def http_url(value: str) -> str:
    """The link if it is http(s), else nothing: lens files and users supply these links."""
    text = (value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""
