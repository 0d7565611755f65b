"""A dataset folder holding what users' folders really contain, and what the app must make of it.

`make_hostile_dataset(root)` writes class folders (``cats/``, ``dogs/``) with a few good images
each, plus every kind of file that has broken image tools in the wild: empty, truncated and
header-only files, web pages and text saved as ``.jpg``, random bytes, a 7000 x 5000 photo,
1 x 1 and 3000 x 3 images, 16-bit, CMYK, palette and animated images, every supported format,
upper-case extensions, names with spaces, Cyrillic, Chinese, formula characters and bytes
that are not UTF-8, hidden and system files, empty class folders, deep nesting, symlinks
(good, broken, self-loops, two-link cycles, a folder loop, one to ``/dev/zero``), a named
pipe and a file without read permission.

It returns a `HostileExpectations`: which relative paths must be used, which must be
reported unreadable (with words the reason must contain) and which must be passed over
silently. Relative paths use ``/`` and are exactly what ``DatasetScan.unreadable`` reports.

Files without read permission: the tests run as root, and root reads any file whatever its
mode, so ``chmod 000`` alone proves nothing there. `deny_reading()` makes the denial real in
both cases: it keeps the file's mode at 000 and, under root, also makes Python's ``open``
raise ``PermissionError`` for those paths (as the kernel would for a normal user).

`snapshot(root)` records (kind, size, mtime_ns, sha256, mode) of everything below a folder
without following links or opening special files, to prove a folder was left unchanged.

`make_run_folder(path, model)` writes a run folder around any Keras model in seconds (no
training), the starting point for damaged, stale and malicious run folders.
"""
from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from imagefactory import jpeg_bytes, noise, png_bytes, png_header_claiming

GOOD_PER_CLASS = 8
GOOD_SIZE = (24, 20)
CLASSES = ("cats", "dogs")
# A file name that is not valid UTF-8 (Latin-1 "café"), as old Windows ZIP files produce.
NON_UTF8_NAME = os.fsdecode(b"caf\xe9 latin1.png")


@dataclass
class HostileExpectations:
    """What a correct scan of the hostile folder finds.

    Attributes:
        root: The dataset folder.
        classes: The classes with readable images.
        empty_classes: Class folders without a readable image.
        used: Relative paths of the files that must be used (readable images in a class).
        unreadable: Relative path -> words (lower case) its reason must contain.
        ignored: Relative paths present on disk that must be neither used nor reported.
        denied: Relative paths of files without read permission (see `deny_reading`).
        outside: A folder next to ``root`` with files that links inside ``root`` point to.
    """

    root: Path
    classes: list[str]
    empty_classes: list[str]
    used: set[str] = field(default_factory=set)
    unreadable: dict[str, str] = field(default_factory=dict)
    ignored: set[str] = field(default_factory=set)
    denied: list[str] = field(default_factory=list)
    outside: Path | None = None

    def path(self, rel: str) -> Path:
        return self.root.joinpath(*rel.split("/"))


def make_hostile_dataset(root: str | os.PathLike) -> HostileExpectations:
    """Write the hostile dataset into ``root`` (created) and return what a scan must find."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=False)
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir(exist_ok=True)
    expect = HostileExpectations(root=root, classes=list(CLASSES), empty_classes=["birds", "fish"],
                                 outside=outside)
    writer = _Writer(root, expect)
    index = 0
    for name in CLASSES:
        for i in range(GOOD_PER_CLASS):
            extension = ".png" if name == "cats" else ".jpg"
            writer.image(f"{name}/{name[:-1]}_{i:03d}{extension}", noise(1000 + index, GOOD_SIZE),
                         quality=95)
            index += 1

    # --- unreadable: broken files of every kind --------------------------------------------
    good_jpeg, good_png = jpeg_bytes(), png_bytes()
    writer.bad("cats/zero bytes.jpg", b"", "empty")
    writer.bad("cats/truncated.jpg", good_jpeg[: len(good_jpeg) // 2], "truncated")
    writer.bad("cats/truncated.png", good_png[: len(good_png) // 2], "truncated")
    writer.bad("cats/saved web page.jpg",
               b"<!DOCTYPE html>\n<html><head><title>cat</title></head><body>404</body></html>\n",
               "html")
    writer.bad("cats/notes.png", b"These are my notes about cats.\nNot an image.\n", "text")
    writer.bad("cats/random.jpeg", np.random.default_rng(5).bytes(3000), "not an image")
    writer.bad("dogs/header only.jpg", good_jpeg[: good_jpeg.index(b"\xff\xda")], "header")
    writer.bad("dogs/header only.png", good_png[:33], "header")
    writer.bad("dogs/iphone.jpg", b"\x00\x00\x00\x18ftypheic" + bytes(40), "heic")
    writer.bad("dogs/bomb.png", png_header_claiming(100_000, 100_000), "too large")
    writer.bad("dogs/truncated.webp", _encoded(noise(3, (64, 48)), "WEBP")[:200], "truncated")
    writer.bad("dogs/truncated.gif", _encoded(noise(4, (64, 48)).convert("P"), "GIF")[:300],
               "truncated")

    # --- unreadable: links and special files ---------------------------------------------------
    writer.link("cats/broken link.jpg", "missing.jpg", reason="broken link")
    writer.link("cats/self loop.jpg", "self loop.jpg", reason="link")
    writer.link("dogs/loop a.png", "loop b.png", reason="link")
    writer.link("dogs/loop b.png", "loop a.png", reason="link")
    writer.link("dogs/zero device.jpg", "/dev/zero", reason="not a regular file")
    fifo = "dogs/named pipe.jpg"
    os.mkfifo(expect.path(fifo))
    expect.unreadable[fifo] = "not a regular file"
    locked = "cats/locked.jpg"
    writer.image(locked, noise(7, GOOD_SIZE), used=False)
    expect.path(locked).chmod(0)
    expect.unreadable[locked] = "permission denied"
    expect.denied.append(locked)

    # --- used: awkward but valid images ----------------------------------------------------------
    writer.image("cats/huge 7000x5000.jpg", Image.new("RGB", (7000, 5000), (120, 90, 60)),
                 quality=70)
    writer.image("cats/one pixel.png", Image.new("RGB", (1, 1), (250, 10, 10)))
    writer.image("cats/wide 3000x3.png", noise(11, (3000, 3)))
    writer.image("dogs/tall 2x2000.jpg", noise(12, (2, 2000)))
    sixteen = (np.arange(24 * 20, dtype=np.uint16).reshape(20, 24) * 130).astype(np.uint16)
    writer.image("cats/sixteen bit.png", Image.fromarray(sixteen))
    writer.image("cats/cmyk.jpg", noise(13, GOOD_SIZE).convert("CMYK"))
    writer.image("dogs/palette.png", noise(14, GOOD_SIZE).convert("P", palette=Image.Palette.ADAPTIVE),
                 transparency=0)
    writer.image("dogs/grey.png", noise(15, GOOD_SIZE).convert("L"))
    writer.image("dogs/rgba.png", noise(16, GOOD_SIZE).convert("RGBA"))
    frames = [noise(20 + i, GOOD_SIZE) for i in range(3)]
    writer.image("cats/animated.gif", frames[0].convert("P"), save_all=True,
                 append_images=[f.convert("P") for f in frames[1:]], duration=100, loop=0)
    writer.image("cats/animated.png", frames[0], save_all=True, append_images=frames[1:],
                 duration=100, format="PNG")
    writer.image("dogs/animated.webp", frames[0], save_all=True, append_images=frames[1:],
                 duration=100, format="WEBP")
    for extension, options in ((".webp", {"quality": 90}), (".tiff", {}), (".tif", {}),
                               (".ppm", {}), (".pgm", {}), (".bmp", {})):
        source = noise(30 + len(expect.used), GOOD_SIZE)
        writer.image(f"dogs/format{extension}", source.convert("L") if extension == ".pgm" else source,
                     **options)
    writer.image("cats/UPPER CASE.JPG", noise(40, GOOD_SIZE))
    writer.image("cats/Upper.PNG", noise(41, GOOD_SIZE))
    writer.image("dogs/Mixed.JpEg", noise(42, GOOD_SIZE))
    writer.image("cats/my cat 01.png", noise(43, GOOD_SIZE))
    writer.image("cats/кошка.jpg", noise(44, GOOD_SIZE))
    writer.image("cats/猫 写真.png", noise(45, GOOD_SIZE))
    writer.image(f"dogs/{NON_UTF8_NAME}", noise(46, GOOD_SIZE))
    for i, name in enumerate(("=1+1.png", "+cmd.png", "-2+3.png", "@SUM(A1).png")):
        writer.image(f"dogs/{name}", noise(50 + i, GOOD_SIZE))  # formula-like names (CSV exports)
    writer.image("cats/2019/summer/beach cat.jpg", noise(60, GOOD_SIZE))
    writer.image("dogs/a/b/c/d/e/deep dog.png", noise(61, GOOD_SIZE))
    writer.image("dogs/folder.jpg/inside.png", noise(62, GOOD_SIZE))  # a folder with an image name
    writer.link("cats/link to cat.png", "cat_000.png", used=True)
    writer.link("dogs/linked from outside.png", str(_outside_image(outside, 63)), used=True)
    os.symlink("..", expect.path("cats/2019/back to cats"))  # a folder loop: followed once only
    expect.ignored.add("cats/2019/back to cats")

    # --- ignored silently: hidden, system and non-image files -----------------------------------
    writer.other(".DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(64))
    writer.other("cats/.DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(64))
    writer.other("cats/Thumbs.db", bytes(512))
    writer.other("dogs/desktop.ini", b"[.ShellClassInfo]\r\n")
    writer.other("cats/._cat_000.png", b"\x00\x05\x16\x07" + bytes(60))  # macOS AppleDouble
    writer.image("dogs/.hidden dog.jpg", noise(70, GOOD_SIZE), used=False)
    expect.ignored.add("dogs/.hidden dog.jpg")
    writer.image("__MACOSX/cats/._cat.jpg", noise(71, GOOD_SIZE), used=False)
    expect.ignored.add("__MACOSX/cats/._cat.jpg")
    writer.other(".git/HEAD", b"ref: refs/heads/main\n")
    writer.other("cats/readme.txt", b"my cats\n")
    writer.other("dogs/labels.csv", b"file,label\n")
    writer.other("dogs/clip.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(40))
    writer.image("loose at the top.png", noise(72, GOOD_SIZE), used=False)  # not in a class
    expect.ignored.add("loose at the top.png")

    # --- empty classes -----------------------------------------------------------------------
    (root / "birds").mkdir()
    writer.other("fish/Thumbs.db", bytes(64))
    writer.other("fish/.DS_Store", bytes(64))
    writer.other("fish/notes.txt", b"no fish yet\n")
    return expect


def snapshot(root: str | os.PathLike) -> dict[str, tuple]:
    """(kind, size, mtime_ns, sha256, mode) of everything below ``root``, links not followed.

    Special files (pipes, devices) are described, never opened; a file the current user may
    not read gets ``None`` as its hash rather than stopping the snapshot.
    """
    result = {}
    root = os.fspath(root)
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                result[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                result[rel] = ("dir", info.st_mtime_ns, mode)
            elif stat.S_ISREG(info.st_mode):
                result[rel] = ("file", info.st_size, info.st_mtime_ns, _sha256(path), mode)
            else:
                result[rel] = ("special", stat.S_IFMT(info.st_mode), info.st_mtime_ns, mode)
    return result


@contextlib.contextmanager
def deny_reading(expect: HostileExpectations, monkeypatch=None):
    """Make the files in ``expect.denied`` unreadable for the code under test, even as root.

    Their mode is already 000. Under root the kernel ignores that, so Python's ``open`` is
    wrapped to raise ``PermissionError`` for those paths, exactly what a normal user gets.
    Code that reads through TensorFlow's C++ file system is not covered by the wrapper; the
    scan leaves such files out before TensorFlow ever sees them.
    """
    if os.name != "posix" or os.geteuid() != 0:
        yield
        return
    denied = {os.path.realpath(expect.path(rel)) for rel in expect.denied}
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and os.path.realpath(file) in denied:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    if monkeypatch is not None:
        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(io, "open", guarded_open)
        yield
        return
    builtins.open = io.open = guarded_open
    try:
        yield
    finally:
        builtins.open = io.open = real_open


def make_run_folder(path: str | os.PathLike, model, labels=("cats", "dogs"), image_size: int | None = None,
                    **config_overrides) -> Path:
    """A run folder as training writes it, holding ``model`` as best.keras and final.keras.

    ``config_overrides`` replace config.json entries (a value of None removes the entry).
    """
    import json

    from core.runs.layout import RUN_FORMAT_VERSION

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    size = image_size or int(model.input_shape[1])
    config = {"format_version": RUN_FORMAT_VERSION, "created": "2026-01-01T12:00:00",
              "status": "finished", "model": "lenet", "family": "scratch", "mode": "scratch",
              "image_size": size, "num_classes": len(labels), "labels": list(labels),
              "epochs_completed": 1}
    for key, value in config_overrides.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (path / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (path / "labels.json").write_text(json.dumps(list(labels)), encoding="utf-8")
    (path / "history.csv").write_text(
        "epoch,stage,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
        "1,train,0.69,0.5,0.69,0.5,0.001,1.0\n", encoding="utf-8")
    model.save(path / "best.keras")
    (path / "final.keras").write_bytes((path / "best.keras").read_bytes())
    return path


def lenet(num_classes: int = 2, image_size: int = 16):
    """An untrained LeNet of the model zoo (what a real run holds)."""
    from core.models.registry import build_model

    return build_model("lenet", num_classes, image_size)


# --- helpers -------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, root: Path, expect: HostileExpectations):
        self.root, self.expect = root, expect

    def _target(self, rel: str) -> Path:
        path = self.expect.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def image(self, rel: str, image: Image.Image, used: bool = True, format: str | None = None,
              **options) -> None:
        path = self._target(rel)
        image_format = format or _format_of(rel)
        if image_format not in ("JPEG", "WEBP"):
            options.pop("quality", None)
        with open(path, "wb") as handle:
            image.save(handle, image_format, **options)
        if used:
            self.expect.used.add(rel)

    def bad(self, rel: str, data: bytes, reason: str) -> None:
        self._target(rel).write_bytes(data)
        self.expect.unreadable[rel] = reason

    def other(self, rel: str, data: bytes) -> None:
        self._target(rel).write_bytes(data)
        self.expect.ignored.add(rel)

    def link(self, rel: str, target: str, reason: str | None = None, used: bool = False) -> None:
        os.symlink(target, self._target(rel))
        if used:
            self.expect.used.add(rel)
        else:
            self.expect.unreadable[rel] = reason


def _format_of(rel: str) -> str:
    extension = os.path.splitext(rel)[1].lower()
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".gif": "GIF", ".webp": "WEBP",
            ".tif": "TIFF", ".tiff": "TIFF", ".ppm": "PPM", ".pgm": "PPM", ".bmp": "BMP"}[extension]


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def _outside_image(outside: Path, index: int) -> Path:
    path = outside / f"outside_{index}.png"
    noise(index, GOOD_SIZE).save(path)
    return path.resolve()


def _sha256(path: str) -> str | None:
    # os.open, not open(): deny_reading() wraps open() for the code under test, not for us.
    try:
        fd = os.open(path, os.O_RDONLY)
    except PermissionError:
        return None
    digest = hashlib.sha256()
    try:
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()
