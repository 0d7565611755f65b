"""Transfer learning: the bottleneck, frozen, finetune and fusion training modes.

Importing this module registers the modes in `core.training.MODE_RUNNERS`; `core.cli` adds
its flags (`add_cli_arguments`) and reads them back (`extra_from_cli`) into
`TrainingConfig.extra`.

- bottleneck: the frozen base runs once over every image; the pooled (or flattened) features
  are cached on disk (HDF5, one row per image content), so a second run on the same data only
  trains the head, in seconds. Heads: dense, dense-hidden (the Keras blog's top model),
  logreg and svm (scikit-learn, converted into an equivalent Dense layer).
- frozen: frozen base + new head, trained end to end on augmented images.
- finetune: stage "head" (on cached features, or `--from-run` an earlier run), then stage
  "finetune": the top block (or top N layers) unfrozen, SGD with momentum 0.9 at a low learning
  rate, BatchNormalization layers kept frozen (inference mode). Both stages share one history.
- fusion: several bases, each at its own input size and preprocessing inside one model, their
  pooled features concatenated under one dropout + dense layer; trained like bottleneck.

Every run saves a complete image -> probabilities model (bases + head), so prediction,
evaluation and heatmaps work as for any other run. Nothing here imports TensorFlow until a
mode runs, so the CLI stays fast for other commands.

Example:
    train(TrainingConfig("data/cats_dogs", "runs/mnv2", model="mobilenet_v2", mode="bottleneck",
                         extra={"alpha": 0.35, "weights": "mobilenet_v2_0.35.weights.h5"}))
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from core import atomic
from core.progress import notify
from core.runs import BEST_MODEL
from core.training import (MODE_RUNNERS, TrainingError, TrainingSession, _current_learning_rate,
                           compile_for_training)

CACHE_ENV = "ICS_CACHE_DIR"
DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "image-classifier-studio", "features")
FEATURE_CACHE_FORMAT = 1
SCAN_CACHE_FORMAT = 1
# The same names as core.backbones.HEADS / POOLINGS (that module imports Keras; this one must
# not, because the CLI imports it for every command).
HEADS = ("dense", "dense-hidden", "logreg", "svm")
POOLINGS = ("avg", "flatten")
LINEAR_HEADS = ("logreg", "svm")


@dataclass
class TransferOptions:
    """The transfer-learning options in `TrainingConfig.extra` (see `add_cli_arguments`)."""

    weights: str = "imagenet"  # "imagenet", "none", a file, or "base=SPEC,..." for fusion
    alpha: float | None = None  # MobileNetV2 width
    head: str = "dense"
    pooling: str = "avg"
    dropout: float = 0.5
    hidden_units: int = 256
    regularization: float = 0.1  # C of the logreg / svm heads (on standardised features)
    unfreeze: int | None = None  # None: the backbone's top block
    finetune_epochs: int = 5
    fine_tune_lr: float = 1e-4
    from_run: str | None = None
    fusion_base: str | None = None  # the base whose heatmap `predict --cam` shows
    cache_dir: str | None = None
    use_cache: bool = True

    @classmethod
    def from_extra(cls, extra: dict | None) -> "TransferOptions":
        extra = dict(extra or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(extra) - names)
        if unknown:
            raise ValueError(f"Received unknown transfer-learning option(s) {', '.join(unknown)}; "
                             f"expected some of: {', '.join(sorted(names))}.")
        options = cls(**{key: value for key, value in extra.items() if value is not None})
        options.validate()
        return options

    def validate(self) -> None:
        checks = [
            (self.head in HEADS, f"Received --head {self.head!r}; expected one of: "
                                 f"{', '.join(HEADS)}."),
            (self.pooling in POOLINGS, f"Received --pooling {self.pooling!r}; expected one of: "
                                       f"{', '.join(POOLINGS)}."),
            (0 <= self.dropout < 1, f"Received --dropout {self.dropout}; expected a fraction "
                                    "from 0 to below 1, such as 0.5."),
            (self.hidden_units >= 1, f"Received {self.hidden_units} hidden units; expected at "
                                     "least 1."),
            (self.regularization > 0, f"Received regularization C={self.regularization}; it "
                                      "must be positive."),
            (self.unfreeze is None or self.unfreeze >= 1,
             f"Received --unfreeze {self.unfreeze}; expected at least 1 layer (or leave it out "
             "to unfreeze the top block)."),
            (self.finetune_epochs >= 1, f"Received --finetune-epochs {self.finetune_epochs}; "
                                        "expected at least 1."),
            (self.fine_tune_lr > 0, f"Received --fine-tune-lr {self.fine_tune_lr}; it must be "
                                    "positive, such as 0.0001."),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


# --- cache folder ------------------------------------------------------------------------------


def cache_dir(options: TransferOptions | None = None) -> Path:
    """Feature cache folder: --cache-dir, else $ICS_CACHE_DIR, else
    ~/.cache/image-classifier-studio/features. Scan records live in its scans/ subfolder."""
    if options is not None and options.cache_dir:
        return Path(options.cache_dir).expanduser().resolve()
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR).expanduser().resolve()


def _check_cache_outside_data(directory: Path, data_dir: str) -> None:
    data = Path(data_dir).expanduser().resolve()
    if directory == data or data in directory.parents:
        raise TrainingError(f"The cache folder {directory} is inside the dataset {data}; "
                            "choose a --cache-dir outside it (the dataset is never written to).")


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
                    raise ValueError("it was written for other settings")
                digests = [str(d) for d in handle["digests"].asstr()[()]]
                features = np.asarray(handle["features"][()], np.float32)
            if features.ndim != 2 or len(digests) != len(features):
                raise ValueError(f"{len(digests)} digests for features of shape {features.shape}")
            if not np.isfinite(features).all():
                raise ValueError("it holds values that are not finite")
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
            raise ValueError(f"put() received {len(digests)} digests for {len(features)} rows.")
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


# --- scan records ------------------------------------------------------------------------------


def scan_dataset_cached(config, listener=None, cancel=None):
    """`core.datasets.scan_dataset`, reusing what earlier scans found out about files that did
    not change since (same size, modification and change time), so that a second run on the
    same data does not decode and hash every image again.

    Records are JSON files in <cache folder>/scans/, one per dataset root. They rely on
    private helpers of core.datasets (_find_candidates, _probe_all, _build_scan); if those
    change, this falls back to a full scan.
    """
    from core import datasets
    from core.imageio import ImageInfo

    helpers = ("_find_candidates", "_probe_all", "_build_scan", "_absolute")
    scan_args = dict(val_split=config.val_split, test_split=config.test_split, seed=config.seed,
                     listener=listener, cancel=cancel)
    options = TransferOptions.from_extra(config.extra)
    if not options.use_cache or not all(hasattr(datasets, name) for name in helpers):
        return datasets.scan_dataset(config.data_dir, **scan_args)
    root = os.path.abspath(os.path.expanduser(os.fspath(config.data_dir)))
    directory = cache_dir(options)
    _check_cache_outside_data(directory, root)
    try:
        return _scan_with_records(datasets, ImageInfo, root, directory, config, listener, cancel)
    except TypeError as error:  # the private helpers changed: scan the plain way
        notify(listener, "on_log", f"Scan records unavailable ({error}); scanning every file.")
        return datasets.scan_dataset(config.data_dir, **scan_args)


def _scan_with_records(datasets, ImageInfo, root, directory, config, listener, cancel):
    record_path = directory / "scans" / (hashlib.sha256(root.encode()).hexdigest()[:20] + ".json")
    found = datasets._find_candidates(root, cancel)
    paths = [datasets._absolute(root, rel) for rel, _, _ in found.candidates]
    records = _read_scan_record(record_path, root)
    results, stamps, todo = [None] * len(paths), [None] * len(paths), []
    for index, path in enumerate(paths):
        try:
            stat = os.stat(path)
            stamps[index] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
        except OSError:
            todo.append(index)
            continue
        entry = records.get(path)
        if entry is not None and entry[0] == stamps[index]:
            result = entry[1]
            results[index] = ImageInfo(*result) if isinstance(result, list) else str(result)
        else:
            todo.append(index)
    if todo:
        probed = datasets._probe_all([paths[i] for i in todo], listener, cancel)
        for index, result in zip(todo, probed):
            results[index] = result
    else:
        notify(listener, "on_stage", "scan", len(paths))
        notify(listener, "on_step", len(paths), len(paths))
    scan = datasets._build_scan(root, found, results, config.val_split, config.test_split,
                                config.seed)
    if todo or len(records) != len(paths):
        fresh = {path: [stamp, list(result) if isinstance(result, ImageInfo) else str(result)]
                 for path, stamp, result in zip(paths, stamps, results)
                 if stamp is not None and result is not None}
        try:
            atomic.write_json(record_path, {"format": SCAN_CACHE_FORMAT, "root": root,
                                            "files": fresh})
        except OSError as error:  # a read-only cache folder only costs speed
            notify(listener, "on_log", f"Could not record the scan in {record_path}: {error}")
    return scan


def _read_scan_record(path: Path, root: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") == SCAN_CACHE_FORMAT and data.get("root") == root:
            return dict(data["files"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # missing or damaged: scan everything again
    return {}


# --- building and describing -------------------------------------------------------------------


def _options(session: TrainingSession) -> TransferOptions:
    options = TransferOptions.from_extra(session.config.extra)
    if options.use_cache:
        _check_cache_outside_data(cache_dir(options), session.config.data_dir)
    return options


def _choices(session: TrainingSession, options: TransferOptions) -> list:
    """One BaseChoice per base: its size, weights and width."""
    from core.backbones import (FUSION_SEPARATOR, BaseChoice, fusion_bases, fusion_sizes,
                                get_backbone, parse_weights)

    name = session.config.model
    if FUSION_SEPARATOR in name:
        bases = fusion_bases(name)
        sizes = fusion_sizes(bases, session.image_size)
    else:
        bases, sizes = [name], {name: session.image_size}
    if options.alpha is not None and not any(get_backbone(b).has_alpha for b in bases):
        raise ValueError(f"Received --alpha {options.alpha} for {name}, which has no width "
                         "multiplier; --alpha applies to mobilenet_v2 only.")
    if options.fusion_base is not None and options.fusion_base not in bases:
        raise ValueError(f"Received --fusion-base {options.fusion_base!r}; choose one of this "
                         f"model's bases: {', '.join(bases)}.")
    sources = parse_weights(options.weights, bases)
    return [BaseChoice(base, sizes[base], sources[base],
                       options.alpha if get_backbone(base).has_alpha else None,
                       seed=session.config.seed) for base in bases]


def _build(session: TrainingSession, options: TransferOptions, choices: list | None = None):
    from core.backbones import build_network

    network = build_network(choices or _choices(session, options), session.num_classes,
                            options.pooling,
                            options.head, options.dropout, options.hidden_units,
                            input_size=session.image_size,
                            snapshot_dir=cache_dir(options) if options.use_cache else None)
    for base in network.bases.values():
        base.trainable = False
    return network


def _describe_run(session: TrainingSession, network, options: TransferOptions) -> dict:
    """Record what the run is made of (config.json) and the model summary (summary.txt).
    Returns that description (see `_write_description`)."""
    description = _description(network, options)
    _write_description(session, description)
    return description


def _write_description(session: TrainingSession, description: dict) -> None:
    from core.training import _data_summary

    session.writer.write_config(**description["config"])
    session.writer.write_summary(description["summary"] + "\n\n" + _data_summary(session))


def _description(network, options: TransferOptions) -> dict:
    from core.backbones import get_backbone
    from core.models import model_summary

    choices = network.choices
    base_names = [choice.name for choice in choices]
    fused = len(choices) > 1
    weights = {c.name: c.weights.label for c in choices} if fused else choices[0].weights.label
    config = dict(
        backbones=[choice.describe() for choice in choices],
        weights=weights,
        transfer={"pooling": options.pooling, "head": options.head, "dropout": options.dropout,
                  "hidden_units": options.hidden_units if options.head == "dense-hidden" else None,
                  "feature_dim": int(network.extractor.output.shape[-1]),
                  "input_size": network.input_size},
        preprocessing={"input": "RGB pixels 0-255, resized by bilinear with antialias",
                       "inside_model": {c.name: get_backbone(c.name).preprocessing
                                        for c in choices}},
        num_params=int(network.model.count_params()),
        heatmap={"feature_layer": (options.fusion_base or base_names[0]) if fused else None,
                 "choices": base_names},
        stages=[])
    return {"config": config, "summary": model_summary(network.model)}


def _record_stage(session: TrainingSession, name: str, first_epoch: int, **details) -> None:
    last = int(session.writer.config.get("epochs_completed") or 0)
    stages = list(session.writer.config.get("stages") or [])
    stages.append({"name": name, "first_epoch": first_epoch,
                   "last_epoch": last if last >= first_epoch else None, **details})
    session.writer.write_config(stages=stages)


# --- feature extraction ------------------------------------------------------------------------


def _feature_key(choice, pooling: str, input_size: int) -> dict:
    from core.pipeline import RESIZE_METHOD

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
    input size) and run through the bases that miss them, a batch at a time, reporting
    on_stage("extract", total) and on_step(done, total) and checking `cancel` between batches.
    What was extracted is cached even when the run is cancelled. Records cache use and
    extraction time in config.json. `plan`: from `plan_features`, when the caller made it.
    """
    from core.pipeline import make_dataset

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
                   "rebuilt": [str(cache.path) for cache in caches if cache.problem]},
            extraction={"images": done, "seconds": round(seconds, 3),
                        "images_per_second": round(done / seconds, 2) if done else None,
                        "batch_size": session.config.batch_size,
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


def _run_extraction(session, network, caches, todo, path_of, make_dataset, progress) -> None:
    """Extract `todo` (digests) a batch at a time; progress[0] counts the images done."""
    if not todo:
        return
    total = len(todo)
    notify(session.listener, "on_stage", "extract", total)
    dataset = make_dataset([path_of[d] for d in todo], list(range(total)), network.input_size,
                           session.config.batch_size, is_native=session.scan.is_native)
    branches = [network.branches[choice.name] for choice in network.choices]
    done = 0
    for images, positions in dataset:
        session.cancel.raise_if_cancelled()
        batch_digests = [todo[int(i)] for i in positions.numpy()]
        for branch, cache in zip(branches, caches):
            rows = [i for i, d in enumerate(batch_digests) if d not in cache]
            if rows:
                batch = images if len(rows) == len(batch_digests) else images.numpy()[rows]
                cache.put([batch_digests[i] for i in rows], branch.predict_on_batch(batch))
        done += len(batch_digests)
        progress[0] = done
        notify(session.listener, "on_step", done, total)
    session.cancel.raise_if_cancelled()


# --- heads -------------------------------------------------------------------------------------


class _BestHead:
    """Keeps the best head weights in memory during a stage on cached features (epochs take
    milliseconds there, while writing the full model takes a second); `write` saves the full
    model with them as best.keras once, at the end of the stage or when cancelled."""

    def __init__(self, network):
        self.network = network
        self.weights = None

    def take(self, head_model) -> None:
        self.weights = [np.array(w, copy=True) for w in self.network.head.get_weights()]

    def write(self, writer, keep_best: bool = False) -> None:
        if self.weights is None:
            return
        current = self.network.head.get_weights()
        self.network.head.set_weights(self.weights)
        writer.save_model(self.network.model, BEST_MODEL)
        if not keep_best:
            self.network.head.set_weights(current)


def train_head(session: TrainingSession, network, options: TransferOptions, data: FeatureSet,
               epochs: int, epoch_offset: int = 0, keep_best: bool = False) -> list | None:
    """Stage "head": fit the head on cached features (Keras) or solve it (scikit-learn).
    Returns the head weights that best.keras was written with (None: it was not)."""
    first_epoch = epoch_offset + 1
    if options.head in LINEAR_HEADS:
        _fit_linear_head(session, network, options, data, epoch_offset)
        _record_stage(session, "head", first_epoch, head=options.head, on="features")
        return network.head.get_weights()
    import tensorflow as tf

    from core.models import make_optimizer

    config = session.config
    steps = math.ceil(len(data.train_x) / config.batch_size)
    # Batches of features take microseconds: one compiled call per epoch instead of one per
    # batch makes the head stage several times faster (cancel is still checked every epoch).
    compile_for_training(network.head, make_optimizer(config.optimizer, config.learning_rate),
                         session.num_classes, steps_per_execution=steps)
    train_ds = tf.data.Dataset.from_tensor_slices((data.train_x, data.train_y)).shuffle(
        len(data.train_x), seed=config.seed, reshuffle_each_iteration=True).batch(
        config.batch_size).prefetch(2)
    best = _BestHead(network)
    session.model = network.model
    try:
        session.fit(network.head, train_ds, None, epochs, stage="head",
                    epoch_offset=epoch_offset, save_best=best.take, steps_per_epoch=steps,
                    validation_logs=None if data.val_x is None else _feature_validation(data))
    finally:
        best.write(session.writer, keep_best=keep_best)
        _record_stage(session, "head", first_epoch, head=options.head, on="features",
                      optimizer=config.optimizer,
                      learning_rate=_current_learning_rate(network.head))
    return best.weights


def _feature_validation(data: FeatureSet):
    """Validation loss and accuracy of a head on the cached validation features, computed
    eagerly: a forward pass over a few hundred feature vectors takes milliseconds, while
    tracing Keras's test function for it took a few tenths of a second of every run."""
    def validation_logs(head) -> dict:
        outputs = np.concatenate([np.asarray(head(data.val_x[start:start + 1024], training=False))
                                  for start in range(0, len(data.val_x), 1024)])
        probs = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs
        return dict(zip(("val_loss", "val_accuracy"), _loss_and_accuracy(probs, data.val_y)))

    return validation_logs


def linear_head_weights(kind: str, train_x, train_y, num_classes: int, c: float = 1.0,
                        balanced: bool = False, seed: int = 0):
    """Fit a scikit-learn linear classifier on standardised features and fold the scaling
    into its weights. Returns (kernel (D, units), bias (units,)) for the Dense output layer.

    "logreg" is LogisticRegression: sigmoid / softmax of the Dense layer gives exactly its
    predict_proba. "svm" is LinearSVC: the Dense layer computes its decision function, and
    sigmoid (2 classes) or softmax (one-vs-rest scores) turns that into probability-like
    values (not calibrated probabilities; the ranking and the predicted class are the SVM's).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    scaler = StandardScaler().fit(train_x)
    weight = "balanced" if balanced else None
    if kind == "logreg":
        model = LogisticRegression(C=c, max_iter=3000, class_weight=weight)
    elif kind == "svm":
        model = LinearSVC(C=c, class_weight=weight, max_iter=5000, random_state=seed)
    else:
        raise ValueError(f"Received linear head {kind!r}; expected one of: "
                         f"{', '.join(LINEAR_HEADS)}.")
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*converge")  # a near-optimum is fine here
        model.fit(scaler.transform(train_x), train_y)
    coef = np.asarray(model.coef_, np.float64)  # (1 or classes, D)
    intercept = np.asarray(model.intercept_, np.float64)
    if num_classes > 2 and coef.shape[0] != num_classes:
        raise ValueError(f"The {kind} head saw {coef.shape[0]} of the {num_classes} classes in "
                         "the training features; every class needs training images.")
    kernel = (coef / scaler.scale_).T
    bias = intercept - (coef * (scaler.mean_ / scaler.scale_)).sum(axis=1)
    return kernel.astype(np.float32), bias.astype(np.float32)


def _probabilities(features, kernel, bias) -> np.ndarray:
    logits = features.astype(np.float64) @ kernel + bias
    if logits.shape[1] == 1:
        positive = 1 / (1 + np.exp(-logits[:, 0]))
        return np.stack([1 - positive, positive], axis=1)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _loss_and_accuracy(probs, labels) -> tuple[float, float]:
    picked = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
    return float(-np.log(picked).mean()), float((probs.argmax(axis=1) == labels).mean())


def _fit_linear_head(session, network, options, data: FeatureSet, epoch_offset: int) -> None:
    writer, config = session.writer, session.config
    notify(session.listener, "on_stage", "head", 1)
    notify(session.listener, "on_train_begin", {
        "epochs": epoch_offset + 1, "initial_epoch": epoch_offset, "stage": "head",
        "steps_per_epoch": 1, "run_dir": str(writer.path)})
    started = time.perf_counter()
    kernel, bias = linear_head_weights(options.head, data.train_x, data.train_y,
                                       session.num_classes, options.regularization,
                                       config.class_weights, config.seed)
    network.head_layers[-1].set_weights([kernel, bias])
    session.model = network.model
    logs = dict(zip(("loss", "accuracy"), _loss_and_accuracy(
        _probabilities(data.train_x, kernel, bias), data.train_y)))
    if data.val_x is not None:
        logs.update(zip(("val_loss", "val_accuracy"), _loss_and_accuracy(
            _probabilities(data.val_x, kernel, bias), data.val_y)))
    seconds = time.perf_counter() - started
    row = {"epoch": epoch_offset + 1, "stage": "head", **logs, "learning_rate": None,
           "seconds": round(seconds, 3)}
    writer.record_epoch(row, session.monitor, lambda: writer.save_model(network.model, BEST_MODEL))
    notify(session.listener, "on_epoch_end", epoch_offset, {**logs, "seconds": seconds})
    solver = "LogisticRegression" if options.head == "logreg" else "LinearSVC"
    session.log(f"{solver} head (C={options.regularization}) fitted in {seconds:.1f}s and "
                "stored as an equivalent Dense layer.")


# --- fine-tuning -------------------------------------------------------------------------------


def _finetune_stage(session, model, base, base_name: str, head_layers, options,
                    epoch_offset: int) -> None:
    from core.backbones import unfreeze_top
    from core.models import make_optimizer

    unfrozen = unfreeze_top(base, base_name, options.unfreeze)
    for layer in head_layers:
        layer.trainable = True
    compile_for_training(model, make_optimizer("sgd", options.fine_tune_lr), session.num_classes)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    session.log(f"Fine-tuning the top {len(unfrozen)} layers of {base_name} and the head "
                f"({trainable:,} weights) with SGD (momentum 0.9) at {options.fine_tune_lr:g}; "
                "BatchNormalization stays frozen.")
    session.writer.write_config(trainable_params=trainable)
    train_ds, val_ds = session.datasets(session.image_size, augment=True)
    session.model = model
    try:
        session.fit(model, train_ds, val_ds, options.finetune_epochs, stage="finetune",
                    epoch_offset=epoch_offset)
    finally:
        _record_stage(session, "finetune", epoch_offset + 1, optimizer="sgd", momentum=0.9,
                      learning_rate=options.fine_tune_lr, unfrozen_layers=unfrozen,
                      trainable_params=trainable)


def _start_from_run(session: TrainingSession, options: TransferOptions):
    """Stage 1 taken from an earlier run: its model, history and best accuracy carry over."""
    from core.runs import Run, RunError

    try:
        source = Run.open(options.from_run)
    except RunError as error:
        raise TrainingError(f"--from-run: {error}") from None
    config = source.config
    if config.get("family") != "transfer" or config.get("model") != session.config.model:
        raise TrainingError(f"--from-run {options.from_run} was trained with model "
                            f"{config.get('model')!r} ({config.get('mode')}); fine-tuning "
                            "continues a run of the same backbone, so pass --model "
                            f"{config.get('model')} or train a head first.")
    if source.labels != session.labels:
        raise TrainingError(f"--from-run {options.from_run} has classes "
                            f"{', '.join(source.labels)}, but this dataset has "
                            f"{', '.join(session.labels)}; use a run trained on these classes.")
    if source.image_size != session.image_size:
        if session.config.image_size is not None:
            raise TrainingError(f"--from-run {options.from_run} was trained at "
                                f"{source.image_size} px; leave out --image-size or pass "
                                f"{source.image_size}.")
        session.image_size = source.image_size
        session.writer.write_config(image_size=source.image_size)
    model = source.load_model("best")
    backbones = config.get("backbones") or [{"name": session.config.model,
                                             "layer": session.config.model}]
    base = model.get_layer(backbones[0].get("layer", session.config.model))
    names = [layer.name for layer in model.layers]
    # The head: every layer after the pooling that follows the base.
    start = names.index("pool") + 1 if "pool" in names else names.index(base.name) + 2
    head_layers = model.layers[start:]
    for layer in model.layers:
        layer.trainable = layer is not base and layer in head_layers
    writer = session.writer
    writer.write_config(from_run=str(source.path.resolve()), backbones=backbones,
                        weights=config.get("weights"), transfer=config.get("transfer"),
                        preprocessing=config.get("preprocessing"),
                        num_params=int(model.count_params()), heatmap=config.get("heatmap"),
                        stages=[dict(stage, from_run=True) for stage in config.get("stages", [])])
    from core.models import model_summary
    from core.training import _data_summary

    writer.write_summary(model_summary(model) + "\n\n" + _data_summary(session))
    for row in source.history:
        writer.add_epoch(dict(row))
    offset = max([row.get("epoch") or 0 for row in source.history], default=0)
    # The starting point is the bar fine-tuning has to beat: best.keras never gets worse.
    baseline = _evaluate_images(session, model)
    if baseline is not None:
        writer.best_value = baseline
        writer.best_epoch = (config.get("best") or {}).get("epoch") or offset or None
        writer.save_model(model, BEST_MODEL)
        writer.write_config(epochs_completed=offset,
                            best={"epoch": writer.best_epoch, "monitor": session.monitor,
                                  "value": baseline})
        session.log(f"Starting from {source.path.name}: {session.monitor} {baseline:.4f}.")
    return model, base, backbones[0].get("name", session.config.model), head_layers, offset


def _evaluate_images(session, model) -> float | None:
    from core.models import loss_for

    train_ds, val_ds = session.datasets(session.image_size, augment=False)
    dataset = val_ds if session.monitor == "val_accuracy" else train_ds
    if dataset is None:
        return None
    import warnings

    session.log("Measuring the starting model ...")
    model.compile(loss=loss_for(session.num_classes), metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ran out of data")
        results = model.evaluate(dataset, verbose=0, return_dict=True)
    return float(results["accuracy"])


# --- the mode runners --------------------------------------------------------------------------


def run_bottleneck(session: TrainingSession):
    """Mode "bottleneck" (and "fusion"): cached base features, then the head alone.

    When every feature is cached and an earlier run kept this network's model template
    (core.model_template), the bases are not built at all: the head is built alone, starts
    from the state the full build would give it, and the run's models are the template with
    the trained head's weights. Otherwise the whole network is built, and the run keeps the
    template for the next one."""
    options = _options(session)
    choices = _choices(session, options)
    input_size = session.image_size or max(choice.image_size for choice in choices)
    plan = plan_features(session, choices, input_size, options)
    template = _model_template(session, options, choices, input_size)
    seed = session.config.seed
    network = None
    if template is not None and not plan.todo and template.usable(seed):
        try:
            network = _network_from_template(session, template, options, choices, input_size)
        except (OSError, ValueError, KeyError, TypeError):  # a damaged template
            network = None  # build the network as if there were none (and mend the template)
    if network is not None:
        session.log("Reusing the saved base of an earlier run of this network; only the head "
                    "is built and trained.")
        _write_description(session, template.description)
        data = extract_features(session, network, options, plan)
        train_head(session, network, options, data, session.config.epochs)
        return network.model
    network = _build(session, options, choices)
    head_start = [np.array(v.numpy(), copy=True) for layer in network.head_layers
                  for v in layer.variables]
    description = _describe_run(session, network, options)
    data = extract_features(session, network, options, plan)
    best_head = train_head(session, network, options, data, session.config.epochs)
    best_file = session.writer.path / BEST_MODEL
    if template is not None and best_head is not None and best_file.is_file():
        template.keep(best_file, best_head, head_start, seed, description)
    return network.model


def _model_template(session: TrainingSession, options: TransferOptions, choices: list,
                    input_size: int):
    """This network's template in the cache folder (None when caching is off)."""
    if not options.use_cache:
        return None
    from core.model_template import ModelTemplate, template_key

    spec = {"model": session.config.model, "bases": [choice.describe() for choice in choices],
            "input_size": input_size, "num_classes": session.num_classes,
            "pooling": options.pooling, "head": options.head, "dropout": options.dropout,
            "hidden_units": options.hidden_units, "fusion_base": options.fusion_base}
    return ModelTemplate(cache_dir(options), template_key(spec))


class _TemplatedModel:
    """Stands in for the full model of a run from a template: saving it (RunWriter.save_model)
    writes the template with the head's current weights."""

    def __init__(self, template, head):
        self.template, self.head = template, head

    def save(self, path) -> None:
        self.template.write(path, self.head.get_weights())


def _network_from_template(session, template, options, choices, input_size):
    from core.backbones import TransferNetwork, build_head, network_name

    feature_dim = int(template.description["config"]["transfer"]["feature_dim"])
    head, head_layers = build_head(feature_dim, session.num_classes, options.head,
                                   options.dropout, options.hidden_units,
                                   name=f"{network_name(choices)}_head")
    template.restore_head_start(head_layers, session.config.seed)
    return TransferNetwork(model=_TemplatedModel(template, head), extractor=None, branches={},
                           head=head, bases={}, head_layers=head_layers, choices=list(choices),
                           input_size=input_size)


def run_fusion(session: TrainingSession):
    """Mode "fusion": several bases, their pooled features concatenated, trained like
    bottleneck; the saved model runs every base and the head."""
    return run_bottleneck(session)


def run_frozen(session: TrainingSession):
    """Mode "frozen": frozen base + head trained end to end on augmented images."""
    from core.models import make_optimizer

    options = _options(session)
    if options.head in LINEAR_HEADS:
        raise TrainingError(f"The {options.head} head is fitted on cached features; use "
                            "--mode bottleneck with it (or --head dense for --mode frozen).")
    network = _build(session, options)
    _describe_run(session, network, options)
    model, config = network.model, session.config
    compile_for_training(model, make_optimizer(config.optimizer, config.learning_rate),
                         session.num_classes)
    session.writer.write_config(
        trainable_params=int(sum(np.prod(w.shape) for w in model.trainable_weights)))
    train_ds, val_ds = session.datasets(session.image_size, augment=True)
    session.model = model
    try:
        session.fit(model, train_ds, val_ds, config.epochs, stage="frozen")
    finally:
        _record_stage(session, "frozen", 1, optimizer=config.optimizer,
                      learning_rate=_current_learning_rate(model))
    return model


def run_finetune(session: TrainingSession):
    """Mode "finetune": stage "head" (on cached features, or --from-run), then stage
    "finetune" with the top block unfrozen at a low learning rate."""
    options = _options(session)
    if options.head in LINEAR_HEADS and not options.from_run:
        session.log(f"The {options.head} head is fitted first, then fine-tuned as a Dense layer.")
    if options.from_run:
        model, base, base_name, head_layers, offset = _start_from_run(session, options)
    else:
        network = _build(session, options)
        _describe_run(session, network, options)
        data = extract_features(session, network, options)
        train_head(session, network, options, data, session.config.epochs, keep_best=True)
        model, base_name = network.model, network.choices[0].name
        base, head_layers = network.bases[base_name], network.head_layers
        offset = int(session.writer.config.get("epochs_completed") or 0)
    session.cancel.raise_if_cancelled()
    _finetune_stage(session, model, base, base_name, head_layers, options, offset)
    return model


MODE_RUNNERS.update(bottleneck=run_bottleneck, frozen=run_frozen, finetune=run_finetune,
                    fusion=run_fusion)


# --- command line ------------------------------------------------------------------------------


def add_cli_arguments(parser) -> None:
    """The transfer-learning flags of `train` (read back by `extra_from_cli`)."""
    group = parser.add_argument_group("pretrained backbones (--mode bottleneck, frozen, "
                                      "finetune, fusion)")
    group.add_argument("--weights", metavar="imagenet|none|PATH", default=None,
                       help="backbone weights: imagenet (downloaded once by Keras into "
                            "~/.keras/models), none (random), or a weights file; for fusion "
                            "BASE=SPEC,BASE=SPEC (default imagenet)")
    group.add_argument("--alpha", type=float, default=None,
                       help="MobileNetV2 width: 0.35, 0.5, 0.75, 1.0 (default), 1.3 or 1.4")
    group.add_argument("--head", choices=HEADS, default=None,
                       help="dense (dropout + dense, default), dense-hidden (dense 256 + dropout "
                            "+ dense), logreg or svm (scikit-learn on the features)")
    group.add_argument("--pooling", choices=POOLINGS, default=None,
                       help="avg: global average pooling (default; heatmaps are CAM); flatten: "
                            "the whole feature map, as the Keras blog")
    group.add_argument("--dropout", type=float, default=None, help="head dropout (default 0.5)")
    group.add_argument("--head-c", type=float, default=None, metavar="C", dest="regularization",
                       help="logreg / svm heads: inverse regularization strength C on "
                            "standardised features (default 0.1)")
    group.add_argument("--unfreeze", type=int, default=None, metavar="N",
                       help="finetune: unfreeze the top N layers with weights (default: the "
                            "backbone's top block)")
    group.add_argument("--finetune-epochs", type=int, default=None, metavar="N",
                       help="finetune: epochs of the fine-tuning stage (default 5; --epochs is "
                            "the head stage)")
    group.add_argument("--fine-tune-lr", type=float, default=None, metavar="LR",
                       help="finetune: SGD learning rate (momentum 0.9) of stage 2 (default 1e-4)")
    group.add_argument("--from-run", default=None, metavar="RUN",
                       help="finetune: start from this run's model (e.g. a bottleneck run) "
                            "instead of training a head first")
    group.add_argument("--fusion-base", default=None, metavar="NAME",
                       help="fusion: the base whose heatmap predict --cam shows (default: first)")
    group.add_argument("--cache-dir", default=None, metavar="DIR",
                       help=f"feature cache folder (default ${CACHE_ENV} or "
                            "~/.cache/image-classifier-studio/features)")
    group.add_argument("--no-cache", action="store_true",
                       help="extract features again and do not store them")


def extra_from_cli(args) -> dict:
    """TrainingConfig.extra from the parsed flags (only what was given)."""
    names = ("weights", "alpha", "head", "pooling", "dropout", "regularization", "unfreeze",
             "finetune_epochs", "fine_tune_lr", "from_run", "fusion_base", "cache_dir")
    extra = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if getattr(args, "no_cache", False):
        extra["use_cache"] = False
    return extra
