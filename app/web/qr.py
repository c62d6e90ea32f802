"""QR codes for posters, drawn on the server as inline SVG (no script, no image request)."""

from __future__ import annotations

from markupsafe import Markup


def qr_svg(data: str, *, title: str, scale: int = 6) -> Markup:
    """Return an inline SVG QR code of `data`, named by `title` for screen readers.

    Error correction M survives a creased or sun-faded print; the quiet
    zone of four modules is what phone cameras need to find the code.
    """
    import segno  # only posters draw QR codes: the server starts without it (12 ms, 1 MB)

    code = segno.make(data, error="m", boost_error=False)
    svg = code.svg_inline(scale=scale, border=4, title=title, dark="#000", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))
