"""The feature cache never trusts damaged bytes: features overwritten with other floats of the
same length, or bytes changed under HDF5, fail their checksums and are extracted again (the
run says so), and two runs sharing a cache keep each other's features."""
from __future__ import annotations

import numpy as np
import pytest

from core.training.transfer import feature_cache
from core.training.transfer.feature_cache import FeatureCache
from imagefactory import make_class_folders

KEY = {"backbone": "mobilenet_v2", "image_size": 32, "pooling": "avg", "weights": "x"}


def filled(directory, rows=12, width=5) -> tuple[FeatureCache, list[str], np.ndarray]:
    cache = FeatureCache(directory, KEY)
    digests = [f"d{i:02d}" for i in range(rows)]
    features = np.arange(rows * width, dtype=np.float32).reshape(rows, width)
    cache.put(digests, features)
    assert cache.save()
    return cache, digests, features


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(feature_cache, "BLOCK_ROWS", 4)


def test_features_overwritten_with_other_floats_are_dropped_block_by_block(tmp_path,
                                                                           small_blocks):
    import h5py

    cache, digests, features = filled(tmp_path)
    with h5py.File(cache.path, "r+") as handle:  # same length, written through HDF5
        handle["features"][:6] = np.random.default_rng(0).normal(size=(6, 5))
    again = FeatureCache(tmp_path, KEY).load()
    assert again.problem is None and again.damaged == 8  # blocks 0-3 and 4-7
    assert again.missing(digests) == digests[:8]
    assert np.array_equal(again.get(digests[8:]), features[8:])
    again.put(digests[:8], features[:8])  # extracted again
    assert again.save()
    healed = FeatureCache(tmp_path, KEY).load()
    assert healed.damaged == 0 and np.array_equal(healed.get(digests), features)


def test_bytes_changed_under_hdf5_fail_the_chunk_checksum(tmp_path, small_blocks):
    import h5py

    cache, digests, features = filled(tmp_path)
    with h5py.File(cache.path, "r") as handle:
        offset = handle["features"].id.get_chunk_info(1).byte_offset
    with open(cache.path, "r+b") as handle:
        handle.seek(offset)
        handle.write(np.random.default_rng(1).normal(size=4).astype(np.float32).tobytes())
    again = FeatureCache(tmp_path, KEY).load()
    assert again.damaged == 4 and again.missing(digests) == digests[4:8]


def test_a_cache_without_checksums_is_rebuilt(tmp_path):
    import h5py

    cache, digests, _ = filled(tmp_path)
    with h5py.File(cache.path, "r+") as handle:
        del handle.attrs["block_sha256"]
    again = FeatureCache(tmp_path, KEY).load()
    assert "no checksums" in again.problem and again.missing(digests) == digests


def test_two_runs_sharing_a_cache_keep_each_others_features(tmp_path):
    first, second = FeatureCache(tmp_path, KEY).load(), FeatureCache(tmp_path, KEY).load()
    first.put(["a", "b"], np.ones((2, 3), np.float32))
    second.put(["c"], np.full((1, 3), 2, np.float32))
    assert first.save() and second.save()  # the last writer used to drop a and b
    merged = FeatureCache(tmp_path, KEY)
    assert merged.missing(["a", "b", "c"]) == []
    assert np.array_equal(merged.get(["a", "c"]), [[1, 1, 1], [2, 2, 2]])


# --- a real run notices the damage and extracts again -------------------------------------------


class Log:
    def __init__(self):
        self.lines = []

    def __getattr__(self, name):
        return lambda *args: self.lines.append(args[0]) if name == "on_log" else None


def test_a_run_on_a_damaged_cache_extracts_the_damaged_features_again(tmp_path):
    import h5py

    from core.runs.run import Run
    from core.training import TrainingConfig, train

    data = make_class_folders(tmp_path / "data", {"cats": 6, "dogs": 6})
    cache_dir = tmp_path / "cache"

    def run(name, log=None):
        config = TrainingConfig(str(data), str(tmp_path / name), model="mobilenet_v2",
                                mode="bottleneck", image_size=32, epochs=1, batch_size=4,
                                augment="none", seed=3,
                                extra={"weights": "none", "alpha": 0.35,
                                       "cache_dir": str(cache_dir)})
        train(config, listener=log)
        return Run.open(tmp_path / name).config["cache"]

    assert run("first")["misses"] == 12
    (path,) = [p for p in cache_dir.glob("*.h5")]
    with h5py.File(path, "r") as handle:
        clean = handle["features"][()]
        order = list(handle["digests"].asstr()[()])
    with h5py.File(path, "r+") as handle:
        half = len(clean) // 2
        handle["features"][:half] = np.random.default_rng(2).normal(size=(half, clean.shape[1]))
    log = Log()
    cache = run("second", log)
    assert any("failed their checksum" in line and "extracting those images again" in line
               for line in log.lines), log.lines
    assert cache["misses"] == 12 and cache["damaged_rows"] == 12  # one block of 12 rows
    with h5py.File(path, "r") as handle:
        again = dict(zip(handle["digests"].asstr()[()], handle["features"][()]))
    assert np.allclose(np.stack([again[d] for d in order]), clean, atol=1e-5)
