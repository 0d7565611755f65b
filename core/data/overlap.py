"""Which pictures of one set are also in a folder, by their contents (the same bytes), not
by where they are: a folder of new photos is not "the training data" because it is laid out
like it, and a copy of the training pictures elsewhere still is."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20


def _digest(path: str) -> str | None:
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(CHUNK), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def files_also_in(paths: list[str], folder: str | os.PathLike, cancel=None) -> list[str]:
    """The files of `paths` whose bytes equal a picture's anywhere inside `folder`.

    Sizes are compared first, so only files of a size both sides have are read and hashed
    (BLAKE2b). An unreadable file counts as not found.
    """
    from core.data.scanning import collect_images

    if not Path(folder).is_dir():
        return []
    others, _ = collect_images([folder])
    return files_also_among(paths, others, cancel)


def files_also_among(paths: list[str], others: list[str], cancel=None) -> list[str]:
    """The files of `paths` whose bytes equal one of the files `others`."""
    sizes: dict[int, list[str]] = {}
    for other in others:
        size = _size(other)
        if size is not None:
            sizes.setdefault(size, []).append(other)
    hashes: set[str] = set()
    hashed_sizes: set[int] = set()
    found = []
    for path in paths:
        if cancel is not None:
            cancel.raise_if_cancelled()
        size = _size(path)
        if size is None or size not in sizes:
            continue
        if size not in hashed_sizes:  # hash the folder's files of this size once
            hashed_sizes.add(size)
            hashes.update(h for h in map(_digest, sizes[size]) if h)
        digest = _digest(path)
        if digest is not None and digest in hashes:
            found.append(path)
    return found
