#!/usr/bin/env python3
"""Draw Waypost's app icons (a white signpost on green) as small palette PNGs.

Run once after changing the drawing; the PNGs under app/web/static/ are committed.
Only the standard library is used, so no image package is needed.

Usage: python3 scripts/make_icons.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "app" / "web" / "static"
GREEN = (0x0B, 0x5D, 0x3B)
WHITE = (0xFF, 0xFF, 0xFF)
LEVELS = 8  # shades between green and white, for smooth edges
SAMPLES = 4  # sub-samples per pixel side


def signpost(x: float, y: float) -> bool:
    """Return whether a point of the unit square lies on the signpost."""
    pole = 0.465 <= x <= 0.535 and 0.18 <= y <= 0.86
    upper = 0.30 <= x and y >= 0.24 and y <= 0.40 and x <= 0.70 + (0.08 - abs(y - 0.32))
    lower = 0.70 >= x and y >= 0.48 and y <= 0.64 and x >= 0.30 - (0.08 - abs(y - 0.56))
    base = 0.36 <= x <= 0.64 and 0.84 <= y <= 0.88
    return pole or upper or lower or base


def inside_rounded_square(x: float, y: float, radius: float) -> bool:
    """Return whether a point of the unit square lies inside a square with rounded corners."""
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def draw(size: int, maskable: bool) -> list[bytes]:
    """Return the palette index rows of one icon."""
    # A maskable icon may be cropped to a circle of 80% of its width, so the
    # sign shrinks into that safe zone and the green fills every corner.
    scale, radius = (0.62, 0.0) if maskable else (0.86, 0.18)
    rows = []
    step = 1 / (size * SAMPLES)
    for py in range(size):
        row = bytearray([0])  # filter type 0: none
        for px in range(size):
            ink = shape = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px * SAMPLES + sx + 0.5) * step
                    y = (py * SAMPLES + sy + 0.5) * step
                    if maskable or inside_rounded_square(x, y, radius):
                        shape += 1
                        if signpost(0.5 + (x - 0.5) / scale, 0.5 + (y - 0.5) / scale):
                            ink += 1
            total = SAMPLES * SAMPLES
            if shape < total // 2:
                row.append(0)  # transparent corner
            else:
                row.append(1 + round(ink / total * (LEVELS - 1)))
        rows.append(bytes(row))
    return rows


def png(size: int, rows: list[bytes]) -> bytes:
    """Return a palette PNG with a transparent first colour."""
    palette = [(0, 0, 0)] + [
        tuple(round(g + (w - g) * i / (LEVELS - 1)) for g, w in zip(GREEN, WHITE, strict=True)) for i in range(LEVELS)
    ]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 3, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"PLTE", bytes(c for colour in palette for c in colour)),
            chunk(b"tRNS", b"\x00"),
            chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
            chunk(b"IEND", b""),
        ]
    )


def main() -> None:
    """Write the three icons the web app manifest names."""
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ):
        data = png(size, draw(size, maskable))
        (STATIC / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
