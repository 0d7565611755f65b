"""`FeatureCache`: backbone features on disk (HDF5, one row per image content), so a second run only trains the head.

Cached bytes are never trusted: rows are stored in blocks, each with its SHA-256 (an
attribute) and HDF5's fletcher32 checksum per chunk; a block that fails either is dropped
when the file is read, and its images are extracted again."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from core.util import atomic
from core.errors import ConfigError


FEATURE_CACHE_FORMAT = 1
BLOCK_ROWS = 256  # rows per checksummed block (and per HDF5 chunk)


class FeatureCache:
    """Pooled features of one base configuration, one row per image content.

    One HDF5 file per key (backbone, width, weights identity, sizes, pooling, resizing): the
    datasets "digests" (N,) and "features" (N, D), the attribute "key" (JSON), and per block
    of `BLOCK_ROWS` rows the SHA-256 of its features and digests ("block_sha256"). Rows are
    found by the SHA-256 of the image file, so a renamed file still hits and a changed file
    misses on its own. A block whose bytes fail their checksums is left out (`damaged` counts
    its rows) and the file is rewritten; a file that cannot be read at all, or has no
    checksums, is reported in `problem` and rebuilt rather than crashing the run. `save`
    merges what another run added to the file meanwhile, then writes a temporary file and
    renames it, under a lock beside the file.

    Args:
        directory: cache folder, or None for a cache in memory only (--no-cache).
        key: JSON-serialisable description of everything the features depend on.
    """

    def __init__(self, directory: str | os.PathLike | None, key: dict):
        self.key = dict(key)
        self.key_text = json.dumps(self.key, sort_keys=True)
        slug = "-".join(str(self.key.get(part)) for part in ("backbone", "image_size", "pooling"))
        if self.key.get("alpha") is not None:
            slug += f"-a{self.key['alpha']}"
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", slug)
        name = f"{slug}-{hashlib.sha256(self.key_text.encode()).hexdigest()[:16]}.h5"
        self.path = Path(directory) / name if directory is not None else None
        self.problem: str | None = None
        self.damaged = 0  # rows left out because their bytes failed a checksum
        self._index: dict[str, tuple[int, int]] = {}  # digest -> (block, row)
        self._blocks: list[np.ndarray] = []
        self._digests: list[list[str]] = []
        self._dirty = False
        self._loaded = False

    def __len__(self) -> int:
        self.load()
        return len(self._index)

    def load(self) -> "FeatureCache":
        if self._loaded:
            return self
        self._loaded = True
        if self.path is None or not self.path.exists():
            return self
        try:
            blocks, self.damaged = _read_blocks(self.path, self.key_text)
        except Exception as error:  # h5py raises OSError, KeyError, ... for damaged files
            self.problem = str(error).strip().splitlines()[0] if str(error).strip() \
                else type(error).__name__
            self._dirty = True  # rewrite it even if nothing new is added
            return self
        for digests, features in blocks:
            self._add_block(digests, features)
        if self.damaged:
            self._dirty = True  # rewrite it without the damaged rows
        return self

    def _add_block(self, digests: list[str], features: np.ndarray) -> None:
        block = len(self._blocks)
        self._blocks.append(features)
        self._digests.append(list(digests))
        for row, digest in enumerate(digests):
            self._index[digest] = (block, row)

    def missing(self, digests) -> list[str]:
        """The distinct digests that have no features yet, in first-seen order."""
        self.load()
        return [d for d in dict.fromkeys(digests) if d not in self._index]

    def __contains__(self, digest: str) -> bool:
        self.load()
        return digest in self._index

    def get(self, digests) -> np.ndarray:
        """Features (len(digests), D) for digests that are all present."""
        self.load()
        places = [self._index[d] for d in digests]
        if not places:
            width = self._blocks[0].shape[1] if self._blocks else 0
            return np.zeros((0, width), np.float32)
        return np.stack([self._blocks[block][row] for block, row in places]).astype(np.float32)

    def put(self, digests, features) -> None:
        self.load()
        features = np.asarray(features, np.float32)
        if len(digests) != len(features):
            raise ConfigError(f"put() received {len(digests)} digests for {len(features)} rows.")
        new = [(d, f) for d, f in zip(digests, features) if d not in self._index]
        if new:
            self._add_block([d for d, _ in new], np.stack([f for _, f in new]))
            self._dirty = True

    def save(self) -> bool:
        """Write the cache (atomically) if it changed, keeping the rows another run added to
        the file since it was read; returns True when written."""
        if self.path is None or not self._dirty:
            return False
        import filelock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.path) + ".lock", timeout=120)
        with lock:
            self._merge_from_disk()
            # put() never adds a digest twice, so the blocks hold distinct rows.
            digests = [digest for names in self._digests for digest in names]
            features = np.concatenate(self._blocks) if self._blocks \
                else np.zeros((0, 0), np.float32)
            with atomic.atomic_path(self.path, suffix=".h5") as tmp:
                _write(tmp, self.key_text, digests, features)
        self._dirty = False
        return True

    def _merge_from_disk(self) -> None:
        """Add the verified rows another run wrote to the file since this one read it."""
        if not self.path.exists():
            return
        with contextlib.suppress(Exception):  # unreadable: it is replaced by ours
            blocks, _ = _read_blocks(self.path, self.key_text, skip=set(self._index))
            for digests, features in blocks:
                rows = [i for i, d in enumerate(digests) if d not in self._index]
                if rows and (not self._blocks or features.shape[1] == self._blocks[0].shape[1]):
                    self._add_block([digests[i] for i in rows], features[rows])


def _block_hash(features: np.ndarray, digests: list[str]) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(features, dtype="<f4").tobytes())
    digest.update("\0".join(digests).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _write(path, key_text: str, digests: list[str], features: np.ndarray) -> None:
    import h5py

    rows = len(digests)
    hashes = [_block_hash(features[i:i + BLOCK_ROWS], digests[i:i + BLOCK_ROWS])
              for i in range(0, rows, BLOCK_ROWS)]
    with h5py.File(path, "w") as handle:
        handle.attrs["key"] = key_text
        handle.attrs["format"] = FEATURE_CACHE_FORMAT
        handle.attrs["rows_per_block"] = BLOCK_ROWS
        handle.attrs["block_sha256"] = np.array(hashes, dtype=h5py.string_dtype())
        handle.create_dataset("digests", data=np.array(digests, dtype=object),
                              dtype=h5py.string_dtype())
        checked = {"chunks": (min(BLOCK_ROWS, rows), features.shape[1]), "fletcher32": True} \
            if rows and features.ndim == 2 and features.shape[1] else {}
        handle.create_dataset("features", data=features, **checked)


def _read_blocks(path: Path, key_text: str, skip: set | None = None):
    """([(digests, features)] of the blocks whose bytes pass their checksums, number of rows
    left out because they failed). Raises for a file that is foreign, unreadable or has no
    checksums. Blocks whose digests are all in `skip` are not read."""
    import h5py

    blocks, damaged = [], 0
    with h5py.File(path, "r") as handle:
        if handle.attrs.get("key") != key_text:
            raise ConfigError("it was written for other settings")
        hashes = handle.attrs.get("block_sha256")
        size = handle.attrs.get("rows_per_block")
        if hashes is None or size is None or int(size) < 1:
            raise ConfigError("it has no checksums (written by an older version)")
        hashes, size = [h.decode() if isinstance(h, bytes) else str(h) for h in hashes], int(size)
        digests = [str(d) for d in handle["digests"].asstr()[()]]
        dataset = handle["features"]
        if dataset.ndim != 2 or len(digests) != dataset.shape[0] \
                or len(hashes) != -(-len(digests) // size):
            raise ConfigError(f"{len(digests)} digests and {len(hashes)} checksums for features "
                              f"of shape {dataset.shape}")
        for number, start in enumerate(range(0, len(digests), size)):
            names = digests[start:start + size]
            if skip is not None and all(name in skip for name in names):
                continue
            try:
                features = np.asarray(dataset[start:start + size], np.float32)
            except OSError:  # fletcher32: the chunk's bytes changed on disk
                features = None
            if features is None or _block_hash(features, names) != hashes[number] \
                    or not np.isfinite(features).all():
                damaged += len(names)
                continue
            blocks.append((names, features))
    return blocks, damaged
