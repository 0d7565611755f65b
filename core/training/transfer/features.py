"""Feature extraction: run frozen bases once over every image, reusing and filling the feature cache."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import TrainingError
from core.training.session import TrainingSession
from core.training.transfer.extraction import run_extraction as _run_extraction
from core.training.transfer.feature_cache import FEATURE_CACHE_FORMAT, FeatureCache
from core.training.transfer.options import CACHE_ENV, TransferOptions, cache_dir


# --- feature extraction ------------------------------------------------------------------------


def _feature_key(choice, pooling: str, input_size: int) -> dict:
    from core.data.pipeline import RESIZE_METHOD

    return {"format": FEATURE_CACHE_FORMAT, "backbone": choice.name, "alpha": choice.alpha,
            "weights": choice.weights.identity(choice.seed), "image_size": choice.image_size,
            "input_size": input_size, "pooling": pooling, "resize": RESIZE_METHOD + "+antialias"}


@dataclass
class FeatureSet:
    """Features and labels of the training and validation images that could be read."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray | None
    val_y: np.ndarray | None


@dataclass
class FeaturePlan:
    """Which images a run needs features of, and which of them the caches lack."""

    splits: dict  # split -> samples
    digests: dict  # split -> content digest per sample
    caches: list  # one FeatureCache per base
    path_of: dict  # digest -> a file with that content
    wanted: list  # digests
    todo: list  # digests missing from some cache
    per_base: dict
    directory: Path | None


def plan_features(session: TrainingSession, choices: list, input_size: int,
                  options: TransferOptions) -> FeaturePlan:
    """Open the feature caches of `choices` and find the images whose features are missing."""
    scan = session.scan
    splits = {"train": scan.samples("train"), "validation": scan.samples("validation")}
    digests = {split: [scan.info[s.path].digest for s in samples]
               for split, samples in splits.items()}
    directory = cache_dir(options) if options.use_cache else None
    caches = [FeatureCache(directory, _feature_key(choice, options.pooling, input_size))
              for choice in choices]
    for cache in caches:
        cache.load()
        if cache.problem:
            session.log(f"The feature cache {cache.path} was unusable ({cache.problem}); "
                        "rebuilding it.")
        elif cache.damaged:
            session.log(f"{cache.damaged} cached features in {cache.path} failed their checksum "
                        "(the file was damaged); extracting those images again.")
    path_of = {}
    for split, samples in splits.items():
        for sample, digest in zip(samples, digests[split]):
            path_of.setdefault(digest, sample.path)
    wanted = list(path_of)
    todo = [d for d in wanted if any(d not in cache for cache in caches)]
    per_base = {choice.name: {"file": str(cache.path) if cache.path else None,
                              "misses": len(cache.missing(wanted))}
                for choice, cache in zip(choices, caches)}
    return FeaturePlan(splits, digests, caches, path_of, wanted, todo, per_base, directory)


def extract_features(session: TrainingSession, network, options: TransferOptions,
                     plan: FeaturePlan | None = None) -> FeatureSet:
    """Features of every training and validation image, from the cache where possible.

    Only images whose content is not cached for some base are decoded (once, at the network's
    input size) and run through the bases that miss them, a batch at a time on every local
    device (core.training.transfer.extraction), reporting on_stage("extract", total) and
    on_step(done, total) and checking `cancel` between batches. The cache is saved as it
    fills and at the end, also when the run is cancelled: a killed run loses little. Records cache use and
    extraction time in config.json. `plan`: from `plan_features`, when the caller made it.
    """
    from core.data.pipeline import make_dataset

    if plan is None:
        plan = plan_features(session, network.choices, network.input_size, options)
    writer = session.writer
    splits, digests, caches, path_of = plan.splits, plan.digests, plan.caches, plan.path_of
    wanted, todo, per_base, directory = plan.wanted, plan.todo, plan.per_base, plan.directory
    hits = len(wanted) - len(todo)
    if todo:
        complete = [name for name, info in per_base.items() if not info["misses"]]
        session.log(f"Extracting features of {len(todo)} images"
                    + (f" ({hits} found in the cache)" if hits else "")
                    + (f"; {', '.join(complete)} cached already" if complete else "") + " ...")
    elif wanted:
        session.log(f"Reusing cached features of all {len(wanted)} images.")
    if todo:
        _check_cache_space(plan, [int(network.branches[choice.name].output.shape[-1])
                                  for choice in network.choices])
    started, progress = time.perf_counter(), [0]
    try:
        _run_extraction(session, network, caches, todo, path_of, make_dataset, progress)
    finally:  # also when cancelled: keep what was extracted and say so in the run
        for cache in caches:
            try:
                cache.save()
            except OSError as error:
                session.log(f"Could not write the feature cache {cache.path}: {error}")
        seconds, done = time.perf_counter() - started, progress[0]
        writer.write_config(
            cache={"enabled": options.use_cache, "dir": str(directory) if directory else None,
                   "files": [str(cache.path) for cache in caches if cache.path is not None],
                   "hits": hits, "misses": len(todo), "images": len(wanted),
                   "per_base": per_base,
                   "rebuilt": [str(cache.path) for cache in caches if cache.problem],
                   "damaged_rows": sum(cache.damaged for cache in caches)},
            extraction={"images": done, "seconds": round(seconds, 3),
                        "images_per_second": round(done / seconds, 2) if done else None,
                        "batch_size": session.batch_size,
                        "finished": done == len(todo)})
    if todo:
        session.log(f"Extracted {done} images in {seconds:.1f}s ({done / max(seconds, 1e-9):.1f} "
                    "images/s).")

    def gather(split):
        samples, split_digests = splits[split], digests[split]
        ok = [i for i, d in enumerate(split_digests) if all(d in cache for cache in caches)]
        if len(ok) < len(samples):
            session.log(f"{len(samples) - len(ok)} {split} images could not be read any more "
                        "and were left out.")
        if not ok:
            return None, None
        chosen = [split_digests[i] for i in ok]
        features = np.concatenate([cache.get(chosen) for cache in caches], axis=1)
        labels = np.array([samples[i].label for i in ok], np.int32)
        return features, labels

    train_x, train_y = gather("train")
    if train_x is None:
        raise TrainingError("None of the training images could be read during feature "
                            "extraction; inspect the dataset and try again.")
    val_x, val_y = gather("validation")
    return FeatureSet(train_x, train_y, val_x, val_y)


# Room left beside the cache files for the run's own models and for everything else.
CACHE_SPACE_MARGIN = 64 * 1024 * 1024


def _check_cache_space(plan: FeaturePlan, dims: list[int]) -> None:
    """Refuse before extracting when the cache files would not fit on their disk.

    Each file is rewritten whole (atomically: a full temporary copy, then a rename), so the
    disk needs room for all of its rows, old and new: 4 bytes per feature plus the digest.
    """
    if plan.directory is None or not plan.todo:
        return
    need = sum((len(cache) + len(cache.missing(plan.wanted))) * (dim * 4 + 80)
               for cache, dim in zip(plan.caches, dims)) + CACHE_SPACE_MARGIN
    free = _free_bytes(plan.directory)
    if free is not None and free < need:
        raise TrainingError(
            f"The feature cache needs about {need / 2**20:.0f} MB in {plan.directory}, but "
            f"only {free / 2**20:.0f} MB are free there. Free some space on that disk, or "
            f"keep the cache elsewhere (--cache-dir or the {CACHE_ENV} environment variable), "
            "or train without it (--no-cache).")


def _free_bytes(directory: Path) -> int | None:
    """Free space on the disk that holds `directory` (or would hold it: its nearest existing
    parent); None when the system cannot say."""
    import shutil

    folder = Path(directory).absolute()
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None
