"""Why an image file cannot be read: the short plain sentence `ImageReadError` carries.

`core.data.imageio` opens and decodes files; when Pillow refuses one, these helpers look at
the bytes (and Pillow's message) to say what the file really is ("not an image: the file is
a PDF document", "HEIC images are not supported; convert the file to JPEG or PNG") or what is
wrong with it ("file has a PNG header but no image data", "image data is truncated").
Only the bytes and the standard library: no Pillow, TensorFlow or Qt here.
"""
from __future__ import annotations

import re


_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


def sniff_format(data: bytes) -> str | None:
    """The format the first bytes announce (JPEG, PNG, GIF, TIFF, BMP, WEBP, PPM), else None."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if re.match(rb"P[1-7]\s", data[:3]):
        return "PPM"
    return None


def unidentified_reason(data: bytes) -> str:
    """Why Pillow did not recognise `data` as an image: what the file is, or how it is broken."""
    image_format = sniff_format(data)
    if image_format:
        if image_format == "PNG" and b"IDAT" not in data:
            return "file has a PNG header but no image data"
        if image_format == "JPEG" and b"\xff\xda" not in data:
            return "file has a JPEG header but no image data"
        return f"file starts like a {image_format} image but is truncated or damaged"
    head = data[:1024]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF images are not supported; convert the file to JPEG or PNG"
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIC images are not supported; convert the file to JPEG or PNG"
        return "not an image: the file is a video or other media file"
    if head.startswith(b"%PDF"):
        return "not an image: the file is a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "not an image: the file is a ZIP archive"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        if b"<svg" in text:
            return "SVG vector images are not supported; convert the file to PNG"
        if b"<html" in text or b"<!doctype html" in text or b"<head" in text or b"<body" in text:
            return "not an image: the file is an HTML web page saved with an image name"
        return "not an image: the file contains XML or HTML text"
    if _looks_like_text(head):
        return "not an image: the file contains text"
    return "not an image, or in a format that cannot be read"


def _looks_like_text(head: bytes) -> bool:
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in decoded)


def header_only(image_format: str | None, data: bytes) -> bool:
    """True when a JPEG or PNG has its header but none of its image data."""
    if image_format in ("JPEG", "MPO"):
        return b"\xff\xda" not in data
    if image_format == "PNG":
        return b"IDAT" not in data
    return False


def riff_is_short(data: bytes) -> bool:
    """True when a RIFF container (WebP) is shorter than its header says: cut off."""
    return len(data) >= 8 and int.from_bytes(data[4:8], "little") + 8 > len(data)


def too_large_reason(error: Exception) -> str:
    """The reason for Pillow's DecompressionBombError, with the size in megapixels."""
    match = re.search(r"\((\d+) pixels\)", str(error))
    if match:
        return f"image is too large ({int(match.group(1)) / 1e6:.0f} megapixels)"
    return "image is too large"


def damaged_reason(error: Exception) -> str:
    """The reason for any other decoding error: truncated, else damaged (with Pillow's words)."""
    message = str(error).strip().rstrip(".")
    if "truncated" in message:
        return "image data is truncated"
    return f"image data is damaged ({message})" if message else "image data is damaged"
