"""`FeatureCache`: backbone features on disk (HDF5, one row per image content), so a second run only trains the head."""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from core.util import atomic
from core.errors import ConfigError


FEATURE_CACHE_FORMAT = 1


class FeatureCache:
    """Pooled features of one base configuration, one row per image content.

    One HDF5 file per key (backbone, width, weights identity, sizes, pooling, resizing): the
    datasets "digests" (N,) and "features" (N, D) and the attribute "key" (JSON). Rows are
    found by the SHA-256 of the image file, so a renamed file still hits and a changed file
    misses on its own. `save` writes a temporary file and renames it; a damaged or foreign
    file is reported in `problem` and rebuilt rather than crashing the run.

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
        import h5py

        try:
            with h5py.File(self.path, "r") as handle:
                if handle.attrs.get("key") != self.key_text:
                    raise ConfigError("it was written for other settings")
                digests = [str(d) for d in handle["digests"].asstr()[()]]
                features = np.asarray(handle["features"][()], np.float32)
            if features.ndim != 2 or len(digests) != len(features):
                raise ConfigError(f"{len(digests)} digests for features of shape {features.shape}")
            if not np.isfinite(features).all():
                raise ConfigError("it holds values that are not finite")
        except Exception as error:  # h5py raises OSError, KeyError, ... for damaged files
            self.problem = str(error).strip().splitlines()[0] if str(error).strip() \
                else type(error).__name__
            self._dirty = True  # rewrite it even if nothing new is added
            return self
        self._add_block(digests, features)
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
        """Write the cache (atomically) if it changed; returns True when written."""
        if self.path is None or not self._dirty:
            return False
        import h5py

        # put() never adds a digest twice, so the blocks hold distinct rows.
        digests = [digest for names in self._digests for digest in names]
        features = np.concatenate(self._blocks) if self._blocks else np.zeros((0, 0), np.float32)
        with atomic.atomic_path(self.path, suffix=".h5") as tmp:
            with h5py.File(tmp, "w") as handle:
                handle.attrs["key"] = self.key_text
                handle.attrs["format"] = FEATURE_CACHE_FORMAT
                handle.create_dataset("digests", data=np.array(digests, dtype=object),
                                      dtype=h5py.string_dtype())
                handle.create_dataset("features", data=features)
        self._dirty = False
        return True
