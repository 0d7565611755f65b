"""Small generated images, broken files and dataset folders for tests (all written into tmp_path)."""
from __future__ import annotations

import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

RED = (220, 30, 40)
BLUE = (20, 40, 210)


def solid(colour=RED, size=(16, 12), mode="RGB") -> Image.Image:
    """A one-colour image of ``size`` (width, height)."""
    return Image.new(mode, size, colour)


def noise(index: int, size=(16, 16)) -> Image.Image:
    """An RGB image whose pixels depend on ``index`` only: different indices, different files."""
    rng = np.random.default_rng(index)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def save(image: Image.Image, path: Path, **options) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def write_noise(path: Path, index: int, size=(16, 16)) -> Path:
    """A unique image at ``path``; the format follows the extension."""
    return save(noise(index, size), path)


def jpeg_bytes(image: Image.Image | None = None, **options) -> bytes:
    import io

    buffer = io.BytesIO()
    (image or noise(0, (64, 48))).save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def png_bytes(image: Image.Image | None = None) -> bytes:
    import io

    buffer = io.BytesIO()
    (image or noise(0, (64, 48))).save(buffer, "PNG")
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_claiming(width: int, height: int, colour_type: int = 0) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (8-bit); its pixel data is a stub."""
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + png_chunk(b"IEND", b""))


BROKEN_FILES = {
    # name -> (bytes, words expected in the reason)
    "empty.jpg": (b"", "empty"),
    "truncated.jpg": (jpeg_bytes()[: len(jpeg_bytes()) // 2], "truncated"),
    "truncated.png": (png_bytes()[:2000], "truncated"),
    "webpage.jpg": (b"<!DOCTYPE html>\n<html><head><title>Cat</title></head><body></body></html>\n", "HTML"),
    "random.png": (np.random.default_rng(7).bytes(4000), "not an image"),
    "header_only.jpg": (jpeg_bytes()[:jpeg_bytes().index(b"\xff\xda")], "header"),
    "header_only.png": (png_bytes()[:33], "header"),
}


def write_broken(folder: Path) -> dict[str, str]:
    """Write every `BROKEN_FILES` entry into ``folder``; returns name -> expected reason words."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (data, _) in BROKEN_FILES.items():
        (folder / name).write_bytes(data)
    return {name: words for name, (_, words) in BROKEN_FILES.items()}


def make_class_folders(root: Path, counts: dict[str, int], extension=".png", start=0) -> Path:
    """``root/<class>/<class>_<i><extension>`` with unique images; returns root."""
    index = start
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            write_noise(root / name / f"{name}_{i:03d}{extension}", index)
            index += 1
    return root


def make_split_folders(root: Path, splits: dict[str, dict[str, int]], extension=".png") -> Path:
    """``root/<split>/<class>/...`` with unique images across the whole tree; returns root."""
    start = 0
    for split, counts in splits.items():
        make_class_folders(root / split, counts, extension, start)
        start += sum(counts.values())
    return root


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path below root with (kind, size, mtime_ns, sha256) - to prove nothing changed."""
    result = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                result[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                result[rel] = ("dir", os.stat(path).st_mtime_ns)
            else:
                stat = os.stat(path)
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                result[rel] = ("file", stat.st_size, stat.st_mtime_ns, digest)
    return result
