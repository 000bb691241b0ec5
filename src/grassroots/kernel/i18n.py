"""Marking strings for translation outside the web layer."""


def N_(message: str) -> str:
    """Mark ``message`` for extraction into the catalogs; it is translated where shown."""
    return message
