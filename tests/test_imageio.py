"""core.data.imageio: every format to uint8 RGB, EXIF orientation, broken files, the native flag."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from core.data.imageio import (IMAGE_EXTENSIONS, ImageInfo, decode_image_bytes, is_ignored_name,
                               is_image_name, probe_image, read_image)
from core.errors import ImageReadError
from imagefactory import BLUE, BROKEN_FILES, RED, noise, png_header_claiming, save, solid, write_broken

WHITE = (255, 255, 255)


def _assert_rgb(image, size, colour, tolerance=0):
    width, height = size
    assert image.dtype == np.uint8
    assert image.shape == (height, width, 3)
    assert np.abs(image.astype(int) - np.array(colour)).max() <= tolerance, image[0, 0]


# (file name, writer, expected colour, tolerance, native)
def _rgba(path):
    image = Image.new("RGBA", (16, 12), RED + (255,))
    image.paste((0, 0, 255, 0), (8, 0, 16, 12))  # right half fully transparent (blue underneath)
    return save(image, path)


def _palette(path, transparent=False):
    image = solid(RED).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    return save(image, path, **({"transparency": 0} if transparent else {}))


def _png16(path):
    values = np.full((12, 16), 65535, np.uint16)
    values[:, 8:] = 32896  # 32896 / 65535 * 255 = 128.0
    return save(Image.fromarray(values), path)


def _gif_animated(path):
    frames = [solid(RED), solid(BLUE)]
    return save(frames[0], path, save_all=True, append_images=frames[1:], duration=100, loop=0)


FORMATS = {
    "rgb.jpg": (lambda p: save(solid(RED), p, quality=95), RED, 6, True),
    "progressive.jpeg": (lambda p: save(solid(RED), p, quality=95, progressive=True), RED, 6, True),
    "grey.jpg": (lambda p: save(solid(100, mode="L"), p, quality=95), (100, 100, 100), 2, True),
    "cmyk.jpg": (lambda p: save(solid((0, 255, 255, 0), mode="CMYK"), p, quality=95), (255, 0, 0), 6, False),
    "rgb.png": (lambda p: save(solid(RED), p), RED, 0, True),
    "grey.png": (lambda p: save(solid(100, mode="L"), p), (100, 100, 100), 0, True),
    "palette.png": (_palette, RED, 0, False),
    "bitmap.bmp": (lambda p: save(solid(RED), p), RED, 0, False),
    "lossless.webp": (lambda p: save(solid(RED), p, lossless=True), RED, 0, False),
    "lossy.webp": (lambda p: save(solid(RED), p, quality=90), RED, 8, False),
    "scan.tif": (lambda p: save(solid(RED), p), RED, 0, False),
    "scan.tiff": (lambda p: save(solid(RED), p, compression="tiff_lzw"), RED, 0, False),
    "pixmap.ppm": (lambda p: save(solid(RED), p), RED, 0, False),
    "greymap.pgm": (lambda p: save(solid(100, mode="L"), p), (100, 100, 100), 0, False),
    "bilevel.pbm": (lambda p: save(solid(1, mode="1"), p), WHITE, 0, False),
    "animated.gif": (_gif_animated, RED, 0, False),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_reads_as_uint8_rgb(tmp_path, name):
    write, colour, tolerance, native = FORMATS[name]
    path = write(tmp_path / name)

    image = read_image(path)

    _assert_rgb(image, (16, 12), colour, tolerance)
    info = probe_image(path)
    assert (info.width, info.height) == (16, 12)
    assert info.native is native
    np.testing.assert_array_equal(decode_image_bytes(path.read_bytes()), image)


def test_alpha_is_composited_over_white(tmp_path):
    image = read_image(_rgba(tmp_path / "alpha.png"))
    _assert_rgb(image[:, :8], (8, 12), RED)
    _assert_rgb(image[:, 8:], (8, 12), WHITE)  # transparent blue shows the white background
    assert probe_image(tmp_path / "alpha.png").native is False


def test_half_transparent_pixels_are_blended():
    import io

    buffer = io.BytesIO()
    Image.new("LA", (4, 4), (0, 128)).save(buffer, "PNG")  # black at 50% alpha
    pixel = decode_image_bytes(buffer.getvalue())[0, 0]
    assert np.all(np.abs(pixel.astype(int) - 127) <= 1)


def test_palette_transparency_becomes_white(tmp_path):
    path = _palette(tmp_path / "transparent.png", transparent=True)
    transparent_index = 0
    expected = WHITE if Image.open(path).getpixel((0, 0)) == transparent_index else RED
    _assert_rgb(read_image(path), (16, 12), expected)
    assert probe_image(path).native is False


def test_16_bit_grey_is_scaled_to_8_bits(tmp_path):
    path = _png16(tmp_path / "deep.png")
    assert Image.open(path).mode.startswith("I")
    image = read_image(path)
    _assert_rgb(image[:, :8], (8, 12), (255, 255, 255))
    _assert_rgb(image[:, 8:], (8, 12), (128, 128, 128))
    assert probe_image(path).native is False


def test_rgb_png_with_transparent_colour_is_not_native(tmp_path):
    path = save(solid(RED), tmp_path / "keyed.png", transparency=RED)
    _assert_rgb(read_image(path), (16, 12), WHITE)
    assert probe_image(path).native is False


def test_animated_gif_gives_its_first_frame(tmp_path):
    path = _gif_animated(tmp_path / "anim.gif")
    assert Image.open(path).n_frames == 2
    _assert_rgb(read_image(path), (16, 12), RED)


def _oriented_jpeg(path, orientation):
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 20, 20))  # left half red, as stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(image, path, quality=95, exif=exif)


def test_exif_orientation_is_applied(tmp_path):
    path = _oriented_jpeg(tmp_path / "portrait.jpg", 6)  # 6: rotate 90 degrees clockwise to view

    image = read_image(path)

    assert image.shape == (40, 20, 3)
    assert np.abs(image[5, 10].astype(int) - RED).max() < 10  # stored left half is now on top
    assert np.abs(image[35, 10].astype(int) - BLUE).max() < 10
    info = probe_image(path)
    assert (info.width, info.height) == (20, 40)
    assert info.native is False


def test_orientation_1_stays_native(tmp_path):
    path = _oriented_jpeg(tmp_path / "upright.jpg", 1)
    assert read_image(path).shape == (20, 40, 3)
    assert probe_image(path).native is True


def test_probe_digest_is_the_hash_of_the_file_bytes(tmp_path):
    first = save(noise(1), tmp_path / "a.png")
    copy = tmp_path / "b.png"
    copy.write_bytes(first.read_bytes())
    other = save(noise(2), tmp_path / "c.png")

    info = probe_image(first)

    assert isinstance(info, ImageInfo)
    assert info.digest == hashlib.sha256(first.read_bytes()).hexdigest()
    assert probe_image(copy).digest == info.digest
    assert probe_image(other).digest != info.digest


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_files_raise_with_a_reason(tmp_path, name):
    expected_words = write_broken(tmp_path)[name]
    path = tmp_path / name
    for read in (read_image, probe_image):
        with pytest.raises(ImageReadError) as caught:
            read(path)
        assert expected_words.lower() in caught.value.reason.lower(), caught.value.reason
        assert caught.value.path == str(path)
        assert str(path) in str(caught.value)
    with pytest.raises(ImageReadError):
        decode_image_bytes(path.read_bytes())


def test_missing_folder_and_broken_link_reasons(tmp_path):
    with pytest.raises(ImageReadError, match="not found"):
        read_image(tmp_path / "nothing.jpg")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)
    link = tmp_path / "link.jpg"
    link.symlink_to(tmp_path / "gone.jpg")
    with pytest.raises(ImageReadError, match="broken link"):
        probe_image(link)
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    with pytest.raises(ImageReadError, match="broken link"):
        probe_image(loop)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_permission_reason(tmp_path):
    path = save(solid(), tmp_path / "secret.png")
    path.chmod(0)
    try:
        with pytest.raises(ImageReadError, match="permission denied"):
            probe_image(path)
    finally:
        path.chmod(0o644)


def test_other_formats_named_as_images_get_plain_reasons():
    cases = {
        b"\x00\x00\x00\x18ftypheic" + bytes(40): "HEIC",
        b"%PDF-1.7\n": "PDF",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>": "SVG",
        b"name,label\ncat.1.jpg,cat\n": "text",
    }
    for data, words in cases.items():
        with pytest.raises(ImageReadError, match=words):
            decode_image_bytes(data)


# pytest resets warning filters for each test, undoing the module's process-wide filter.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_too_large_only_above_the_error_threshold(monkeypatch):
    with pytest.raises(ImageReadError, match=r"image is too large \(400 megapixels\)"):
        decode_image_bytes(png_header_claiming(20000, 20000))

    # Between Pillow's warning and error limits an image is read normally.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200)
    import io

    buffer = io.BytesIO()
    solid(RED, (16, 16)).save(buffer, "PNG")  # 256 pixels: over the limit, under twice the limit
    _assert_rgb(decode_image_bytes(buffer.getvalue()), (16, 16), RED)
    buffer = io.BytesIO()
    solid(RED, (21, 20)).save(buffer, "PNG")  # 420 pixels: over twice the limit
    with pytest.raises(ImageReadError, match="too large"):
        decode_image_bytes(buffer.getvalue())


def test_ignored_names_and_image_names():
    for name in (".DS_Store", "Thumbs.db", "THUMBS.DB", "desktop.ini", "__MACOSX", ".hidden.jpg", "._cat.jpg"):
        assert is_ignored_name(name), name
        assert not is_image_name(name), name
    for name in ("cat.jpg", "CAT.JPG", "dog.PNG", "x.tiff", "y.Webp", "z.pgm"):
        assert not is_ignored_name(name)
        assert is_image_name(name), name
    assert not is_image_name("notes.txt")
    assert {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm",
            ".pnm"} == set(IMAGE_EXTENSIONS)


def _decode_in_graph(tf, data):
    """The in-graph recipe documented on ImageInfo: decode_jpeg with accurate DCT, else decode_png."""
    return tf.cond(
        tf.io.is_jpeg(data),
        lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_png(data, channels=3),
    )


@pytest.mark.slow
def test_native_files_decode_identically_in_tensorflow(tmp_path):
    """The contract behind `native`: TensorFlow's in-graph decoders give read_image's pixels exactly."""
    tf = pytest.importorskip("tensorflow")
    paths = [FORMATS[name][0](tmp_path / name) for name in sorted(FORMATS)]
    for index, subsampling in enumerate((0, 1, 2)):
        paths.append(save(noise(index, (37, 29)), tmp_path / f"noise{index}.jpg", quality=85,
                          subsampling=subsampling, progressive=index == 1))
    paths.append(save(noise(5, (37, 29)), tmp_path / "noise.png"))
    paths.append(save(noise(6, (37, 29)).convert("L"), tmp_path / "noise_grey.jpg"))
    paths.append(_oriented_jpeg(tmp_path / "upright.jpg", 1))
    native = [path for path in paths if probe_image(path).native]
    assert len(native) == 11
    for path in native:
        data = tf.io.read_file(str(path))
        np.testing.assert_array_equal(_decode_in_graph(tf, data).numpy(), read_image(path), err_msg=str(path))
        # decode_image itself uses the fast, inexact DCT for JPEGs: close, but not the same pixels.
        plain = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
        assert np.abs(plain.astype(int) - read_image(path)).max() <= 16

    # Files that are not native really do decode differently in TensorFlow.
    rotated = tf.io.read_file(str(_oriented_jpeg(tmp_path / "portrait.jpg", 6)))
    assert _decode_in_graph(tf, rotated).shape != read_image(tmp_path / "portrait.jpg").shape
    alpha = tf.io.read_file(str(_rgba(tmp_path / "alpha.png")))
    assert not np.array_equal(_decode_in_graph(tf, alpha).numpy(), read_image(tmp_path / "alpha.png"))
