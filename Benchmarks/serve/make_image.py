#!/usr/bin/env python3
"""Writes a WIDTHxHEIGHT RGB PNG (a smooth pattern with rectangles) with the standard library."""
import struct
import sys
import zlib

width, height, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = bytearray()
for y in range(height):
    rows.append(0)
    for x in range(width):
        inside = (x // 150 + y // 120) % 3 == 0
        rows += bytes(((x * 255 // width) if not inside else 30, (y * 255 // height), 200 if inside else 90))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b""))
