"""Reading image files into uint8 RGB arrays, and checking them without keeping the pixels.

Everything that opens an image file goes through this module, so every part of the app
agrees on what "readable" means and on the reason shown when a file is not:

- `read_image(path)` / `decode_image_bytes(data)` return an ``(H, W, 3)`` uint8 RGB array:
  EXIF orientation applied, first frame of animations, grey/CMYK/palette/16-bit turned into
  8-bit RGB, transparency composited over white.
- `probe_image(path)` verifies a file (all of its image data is decoded, so truncation is
  found), hashes its bytes and its look (`core.data.perceptual`) and says whether TensorFlow's in-graph decoders would give the same
  pixels (`ImageInfo.native`; see there for the exact decode calls). It reads each file
  once and decodes JPEGs at 1/8 scale, which still reads every byte of entropy-coded data
  but skips most of the work.
- Failures raise `ImageReadError`, whose ``reason`` is a short plain sentence for users
  ("file is empty", "image data is truncated", "not an image: the file is an HTML page");
  `core.data.image_reasons` works out the reason from the bytes when Pillow refuses a file.

Pillow does the decoding; it releases the GIL while decoding, so callers may probe many files
from a thread pool. No TensorFlow or Qt here.

Example:
    >>> image = read_image("cats/cat.1.jpg")          # doctest: +SKIP
    >>> image.shape, image.dtype                       # doctest: +SKIP
    ((375, 500, 3), dtype('uint8'))
"""
from __future__ import annotations

import hashlib
import io
import os
import stat
import warnings
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError
from core.data.image_reasons import (damaged_reason, header_only, riff_is_short, sniff_format,
                                      too_large_reason, unidentified_reason)
from core.data.perceptual import perceptual_hashes
from core.errors import ImageReadError

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff",
     ".ppm", ".pgm", ".pbm", ".pnm"}
)
"""Lower-case file suffixes treated as images. Compare with ``os.path.splitext(name)[1].lower()``."""

MAX_FILE_BYTES = 512 * 2**20
"""Files larger than this are not read: no usable photo is that big, and a scan reads several
files at once (a video renamed to .jpg must not exhaust the memory)."""

# Names that operating systems, archivers and cloud clients drop into folders. Compared lower-case.
SYSTEM_NAMES = frozenset(
    {"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", "icon\r", ".ds_store",
     "__macosx", "$recycle.bin", "system volume information", ".spotlight-v100", ".trashes",
     ".fseventsd", ".temporaryitems", ".apdisk", "@eadir", "lost+found"}
)

# Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises above. The warning would be
# printed once per scan from a worker thread and tells the user nothing they can act on;
# `warnings.catch_warnings` cannot be used instead because it is not thread-safe (Python < 3.14).
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = {5, 6, 7, 8}


class ImageInfo(NamedTuple):
    """What `probe_image` learns about a readable file.

    Attributes:
        width, height: Size in pixels after EXIF orientation is applied.
        digest: SHA-256 of the file's bytes (hex); equal digests mean identical files.
        native: True when TensorFlow can decode the file in-graph to exactly the pixels
            `read_image` gives: plain 8-bit RGB/grey JPEG (baseline or progressive, no EXIF
            rotation) or 8-bit RGB/grey PNG without transparency or animation. False means
            decode it with `read_image` instead.
        phash, dhash: Perceptual hashes of the picture (see `core.data.perceptual`): close
            values mean near-identical pictures (resized, re-encoded, a burst).

    Decoding native files in a tf.data pipeline: ``tf.io.decode_image`` uses libjpeg's fast
    integer DCT for JPEGs, which is up to about 15 levels off Pillow's pixels; ask for the
    accurate DCT to get identical pixels::

        tf.cond(tf.io.is_jpeg(data),
                lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
                lambda: tf.io.decode_png(data, channels=3))
    """

    width: int
    height: int
    digest: str
    native: bool
    phash: int
    dhash: int


def is_ignored_name(name: str) -> bool:
    """True for hidden and system files or folders that a scan should pass over silently.

    Hidden means a leading ``.`` (``.DS_Store``, ``._cat.jpg`` from macOS archives); system
    names include ``Thumbs.db``, ``desktop.ini`` and ``__MACOSX``. Case-insensitive.
    """
    return name.startswith(".") or name.lower() in SYSTEM_NAMES


def is_image_name(name: str) -> bool:
    """True when a file name has an image extension (any case) and is not hidden or a system file."""
    return not is_ignored_name(name) and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an ``(H, W, 3)`` uint8 RGB array.

    EXIF orientation is applied; animations give their first frame; grey, CMYK, palette and
    16-bit images become 8-bit RGB; transparent pixels are composited over white.

    Raises:
        ImageReadError: the file is missing, unreadable, not an image, truncated or damaged.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    try:
        return decode_image_bytes(data)
    except ImageReadError as error:
        raise ImageReadError(error.reason, path) from None


def decode_image_bytes(data: bytes) -> np.ndarray:
    """Decode the bytes of an image file exactly like `read_image` does.

    Raises:
        ImageReadError: the bytes are empty, not an image, truncated or damaged.
    """
    image = _open(data)
    try:
        with image:
            _load(image, data)
            orientation = _orientation(image)
            if orientation in _TRANSPOSE:
                return _to_rgb_array(image.transpose(_TRANSPOSE[orientation]))
            return _to_rgb_array(image)
    except ImageReadError:
        raise
    except MemoryError:
        raise ImageReadError("image is too large to decode (out of memory)") from None
    except Exception as error:  # Pillow raises many types for odd files; all mean "can't use it".
        raise ImageReadError(damaged_reason(error)) from None


def probe_image(path: str | os.PathLike) -> ImageInfo:
    """Verify an image file and describe it, reading the file once.

    All image data is decoded (JPEGs at 1/8 scale, which still consumes every byte), so
    truncated and damaged files are found, as `read_image` would find them.

    Raises:
        ImageReadError: as `read_image`.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    try:
        return probe_image_bytes(data)
    except ImageReadError as error:
        raise ImageReadError(error.reason, path) from None


def probe_image_bytes(data: bytes) -> ImageInfo:
    """`probe_image` for bytes already in memory."""
    digest = hashlib.sha256(data).hexdigest()
    image = _open(data)
    try:
        with image:
            width, height = image.size
            image_format, mode = image.format, image.mode
            if image_format in ("JPEG", "MPO"):
                # DCT scaling: libjpeg still entropy-decodes the whole scan; grey output skips
                # colour conversion. Enough to prove the file decodes, about twice as fast.
                # (32, 32): the smallest scale that still leaves the hash's 32x32 thumbnail.
                image.draft("L" if mode == "RGB" else None, (32, 32))
            _load(image, data)
            orientation = _orientation(image)
            looks = perceptual_hashes(image.transpose(_TRANSPOSE[orientation])
                                      if orientation in _TRANSPOSE else image)
    except ImageReadError:
        raise
    except MemoryError:
        raise ImageReadError("image is too large to decode (out of memory)") from None
    except Exception as error:
        raise ImageReadError(damaged_reason(error)) from None
    if orientation in _SWAPS_AXES:
        width, height = height, width
    native = _is_native(image_format, mode, orientation, image.info, data)
    return ImageInfo(width, height, digest, native, *looks)


# --- reading -------------------------------------------------------------------------------


def _read_bytes(path: str) -> bytes:
    try:
        # stat first: opening a named pipe would wait forever for a writer, and reading a
        # link to /dev/zero would never end.
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(info.st_mode):
            raise ImageReadError("not a regular file (a device, pipe or socket), so it was not read",
                                 path)
        if info.st_size > MAX_FILE_BYTES:
            raise ImageReadError(f"file is too large for an image ({info.st_size / 2**20:,.0f} MB; "
                                 f"the limit is {MAX_FILE_BYTES // 2**20} MB)", path)
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        if os.path.islink(path):
            raise ImageReadError("broken link: the file it points to does not exist", path) from None
        raise ImageReadError("file not found", path) from None
    except PermissionError:
        raise ImageReadError("permission denied: the file cannot be read", path) from None
    except IsADirectoryError:
        raise ImageReadError("is a folder, not a file", path) from None
    except OSError as error:
        if error.errno == 40:  # ELOOP: a symlink pointing at itself (or a cycle of links).
            raise ImageReadError("broken link: it points to itself, directly or through other links",
                                 path) from None
        raise ImageReadError(f"file cannot be read ({error.strerror or error})", path) from None


def _open(data: bytes) -> Image.Image:
    if not data:
        raise ImageReadError("file is empty")
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise ImageReadError(too_large_reason(error)) from None
    except UnidentifiedImageError:
        raise ImageReadError(unidentified_reason(data)) from None
    except MemoryError:
        raise ImageReadError("image is too large to decode (out of memory)") from None
    except Exception as error:
        if sniff_format(data) == "WEBP" and riff_is_short(data):
            raise ImageReadError("image data is truncated") from None
        raise ImageReadError(damaged_reason(error)) from None


def _load(image: Image.Image, data: bytes) -> None:
    """Decode the (first frame's) pixels, turning Pillow's errors into plain reasons."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        message = str(error)
        if header_only(image.format, data):
            raise ImageReadError(f"file has a {image.format} header but no image data") from None
        if "truncated" in message or isinstance(error, EOFError):
            raise ImageReadError("image data is truncated") from None
        if image.format == "WEBP" and riff_is_short(data):
            raise ImageReadError("image data is truncated") from None
        raise ImageReadError(damaged_reason(error)) from None


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # Damaged EXIF must not make a good image unreadable.
        return 1
    return value if isinstance(value, int) else 1


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        grey = _scale_to_uint8(np.asarray(image), mode)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "La", "PA", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.array(Image.alpha_composite(background, rgba).convert("RGB"))
    if mode == "RGB":
        return np.array(image)
    if mode == "1":
        image = image.convert("L")
    return np.array(image.convert("RGB"))


def _scale_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit and 32-bit grey to 8 bits: 0..65535 maps to 0..255 (other ranges are stretched)."""
    values = values.astype(np.float64)
    if mode == "F" and values.size and values.min() >= 0 and values.max() <= 1:
        scaled = values * 255
    elif mode == "F" or (values.size and (values.min() < 0 or values.max() > 65535)):
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255 / (high - low)) if high > low else np.zeros_like(values)
    else:
        scaled = values * (255 / 65535)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


# --- TensorFlow's decoder ----------------------------------------------------------------------


def _is_native(image_format: str | None, mode: str, orientation: int, info: dict, data: bytes) -> bool:
    """Would TensorFlow's in-graph decoders give read_image's pixels (see ImageInfo)?

    TensorFlow ignores EXIF orientation and transparency and converts 16-bit and CMYK its own
    way, so only plain 8-bit RGB/grey JPEG and PNG without those features qualify.
    """
    if orientation != 1:
        return False
    if image_format in ("JPEG", "MPO"):
        return mode in ("RGB", "L")
    if image_format == "PNG":
        if len(data) < 26 or data[12:16] != b"IHDR":
            return False
        bit_depth, colour_type = data[24], data[25]
        if bit_depth != 8 or colour_type not in (0, 2):  # 0 = grey, 2 = RGB
            return False
        if "transparency" in info:
            return False
        idat = data.find(b"IDAT")
        return b"acTL" not in data[: idat if idat > 0 else len(data)]  # animated PNG
    return False
