"""The poster QR code: inline SVG a phone camera can read, named for screen readers."""

from __future__ import annotations

import segno

from app.web.qr import qr_svg


def test_the_qr_code_is_inline_svg_with_an_escaped_title_and_the_encoded_address():
    svg = qr_svg("http://192.168.1.10:8000/", title='Waypost <"kiosk">')
    assert svg.startswith('<svg role="img" focusable="false" ')
    assert '<title>Waypost &lt;"kiosk"&gt;</title>' in svg
    assert "<script" not in svg
    # The same data at the same settings draws the same modules: what the page shows encodes the address.
    expected = segno.make("http://192.168.1.10:8000/", error="m", boost_error=False)
    assert expected.designator == "2-M"
    drawn = expected.svg_inline(scale=6, border=4, dark="#000", light="#fff")
    assert svg.split("</title>", 1)[1] == drawn.split(">", 1)[1]
