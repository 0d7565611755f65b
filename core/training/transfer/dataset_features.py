"""Pretrained features of every picture of a scanned dataset (all splits), for looking at the
data rather than training: the same feature cache and extraction loop as a bottleneck run
(`core.training.transfer.features`), so features computed here are reused by training, and
the other way round.

Example:
    weights = pick_weights("mobilenet_v2_0.35_imagenet_notop.weights.h5")
    paths, labels, features = dataset_features(scan, weights)
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from core.errors import ConfigError
from core.training.transfer.feature_cache import FeatureCache
from core.training.transfer.extraction import run_extraction
from core.training.transfer.features import _feature_key
from core.training.transfer.options import TransferOptions, cache_dir, check_cache_outside_data
from core.util.progress import CancelToken, notify

DEEP_NEEDS_WEIGHTS = (
    "--deep needs a pretrained weights file (--weights FILE): the weights of a network trained "
    "on a million photos (such as mobilenet_v2_0.35_imagenet_notop.weights.h5, saved by Keras "
    "without its top layers), whose view of your pictures shows which ones look like another "
    "class; none was given and none was found on this computer.")


def pick_weights(path: str | os.PathLike | None = None):
    """The pretrained weights to look with: the file given (identified and remembered), else
    the first of `core.models.weights_store.available_weights`. Raises ConfigError with
    DEEP_NEEDS_WEIGHTS when there is none."""
    from core.models.weights_store import available_weights, identify_weights, remember_weights

    if path:
        if not os.path.isfile(path):
            raise ConfigError(f"The weights file {path} does not exist; --deep needs a "
                              "pretrained weights file (--weights FILE, a Keras .h5 file of a "
                              "network trained on photos, saved without its top layers).")
        weights = identify_weights(path)
        remember_weights(weights)
        return weights
    found = available_weights()
    if not found:
        raise ConfigError(DEEP_NEEDS_WEIGHTS)
    return found[0]


@dataclass
class _Extraction:
    """What `run_extraction` reads from a training session, without a run."""

    scan: object
    listener: object
    cancel: CancelToken
    batch_size: int
    distribution: object = None  # one device


def dataset_features(scan, weights, listener=None, cancel: CancelToken | None = None,
                     cache_folder: str | os.PathLike | None = None, batch_size: int = 32
                     ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(paths, labels, features) of every readable picture of `scan`, all splits, in path
    order; pictures that could not be read any more are left out. `weights`: a
    `PretrainedWeights`. Features are cached (by picture content) in `cache_folder`, else the
    feature cache folder training uses. Reports on_stage("extract") / on_step like training."""
    from core.models.backbones import get_backbone
    from core.models.networks import BaseChoice, build_network

    cancel = cancel or CancelToken()
    options = TransferOptions(cache_dir=os.fspath(cache_folder) if cache_folder else None)
    folder = cache_dir(options)
    check_cache_outside_data(folder, scan.root)
    size = get_backbone(weights.backbone).default_size
    choice = BaseChoice(weights.backbone, size, weights.path, weights.alpha)
    cache = FeatureCache(folder, _feature_key(choice, options.pooling, size))
    samples = sorted(sample for split in scan.splits.values() for sample in split)
    digests = [scan.info[sample.path].digest for sample in samples]
    path_of = {}
    for sample, digest in zip(samples, digests):
        path_of.setdefault(digest, sample.path)
    todo = cache.missing(digests)
    if todo:
        notify(listener, "on_log", f"Looking at {len(todo)} pictures with {weights.title} ...")
        network = build_network([choice], 2, options.pooling, input_size=size,
                                snapshot_dir=folder)
        session = _Extraction(scan, listener, cancel, batch_size)
        try:
            run_extraction(session, network, [cache], todo, path_of, _make_dataset(), [0])
        finally:
            try:
                cache.save()
            except OSError as error:
                notify(listener, "on_log", f"Could not write the feature cache {cache.path}: "
                                           f"{error}")
    kept = [i for i, digest in enumerate(digests) if digest in cache]
    features = cache.get([digests[i] for i in kept])
    return ([samples[i].path for i in kept], np.array([samples[i].label for i in kept], np.int32),
            features)


def _make_dataset():
    from core.data.pipeline import make_dataset

    return make_dataset
