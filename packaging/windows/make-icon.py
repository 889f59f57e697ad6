#!/usr/bin/env python3
"""Writes hotline.ico (16, 32, 48, 256 px; PNG-compressed entries): a red
rounded square with a white "H". Standard library only.
   python3 packaging/windows/make-icon.py OUT.ico"""
import struct
import sys
import zlib


def pixel(x, y, n):
    # Coordinates scaled to a 64-unit square.
    u, v = (x + 0.5) * 64 / n, (y + 0.5) * 64 / n
    r = 12
    cx = min(max(u, 2 + r), 62 - r)
    cy = min(max(v, 2 + r), 62 - r)
    if (u - cx) ** 2 + (v - cy) ** 2 > r * r:
        return (0, 0, 0, 0)
    in_h = (16 <= v <= 48) and ((17 <= u <= 25) or (39 <= u <= 47) or (28 <= v <= 36 and 17 <= u <= 47))
    return (255, 255, 255, 255) if in_h else (192, 57, 43, 255)


def png(n):
    rows = b"".join(b"\0" + b"".join(bytes(pixel(x, y, n)) for x in range(n)) for y in range(n))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", n, n, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


sizes = [16, 32, 48, 256]
images = [png(n) for n in sizes]
out = struct.pack("<HHH", 0, 1, len(sizes))
offset = 6 + 16 * len(sizes)
for n, im in zip(sizes, images):
    out += struct.pack("<BBBBHHII", n % 256, n % 256, 0, 0, 1, 32, len(im), offset)
    offset += len(im)
out += b"".join(images)
with open(sys.argv[1], "wb") as f:
    f.write(out)
