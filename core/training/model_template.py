"""A saved transfer model reused by later runs that differ from it only in the head's weights.

After TensorFlow's import, a bottleneck run whose features are all cached spent most of its
time building the backbone (about 0.5 s for MobileNetV2) only to serialise it twice into
best.keras and final.keras (0.2-0.4 s each), although the backbone is exactly the one the
first run saved. So the first run keeps a copy of its best.keras beside the feature cache,
with where each head weight sits in the file. A later run of the same network builds the
head alone, trains it on the cached features, and writes each model by copying that file
with the head's weights replaced: a `.keras` file Keras loads like any other.

Where the head's weights sit is not taken from Keras's internal naming: when a template is
kept, each head weight must equal exactly one array of the saved file (same shape, same
values), or no template is kept and runs simply build the whole network as before.

The head's starting state (initial weights and dropout seed) is kept per seed, so that a run
from the template trains exactly as the run that built the network would have.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from core.util import atomic
from core.errors import ConfigError

TEMPLATE_FOLDER = "templates"
TEMPLATE_FORMAT = 1
WEIGHTS_ENTRY = "model.weights.h5"
INFO_FILE = "template.json"
MODEL_FILE = "model.keras"
# The code that decides what a network is made of: a change there makes old templates stale.
_BUILDER_MODULES = ("core.models.backbones", "core.models.networks", "core.models.preprocessing",
                    "core.models.weights", "core.models.fusion", "core.models.outputs")


def template_key(network_spec: dict) -> dict:
    """The key of a template: the network's description plus the versions of Keras and of the
    code that builds networks."""
    import keras

    sources = hashlib.sha256()
    for name in _BUILDER_MODULES:  # their source files, found without importing them
        sources.update(Path(importlib.util.find_spec(name).origin).read_bytes())
    return {"format": TEMPLATE_FORMAT, "keras": keras.__version__,
            "builder": sources.hexdigest()[:16], **network_spec}


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]


def _head_state_file(seed) -> str:
    return f"head_start-{seed}.npz"


class ModelTemplate:
    """The template of one network in `directory` (the feature cache folder).

    Example:
        template = ModelTemplate(cache, template_key(spec))
        if template.usable(seed):
            template.restore_head_start(head_layers, seed)   # then train the head
            template.write("run/best.keras", head.get_weights())
    """

    def __init__(self, directory: str | os.PathLike, key: dict):
        self.key = key
        self.folder = Path(directory) / TEMPLATE_FOLDER / _digest(key)
        self._info = None

    @property
    def info(self) -> dict | None:
        """template.json when it exists, belongs to this key and names its model file."""
        if self._info is None:
            try:
                info = json.loads((self.folder / INFO_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            if isinstance(info, dict) and info.get("key") == self.key and \
                    (self.folder / MODEL_FILE).is_file():
                self._info = info
        return self._info

    def usable(self, seed) -> bool:
        """A complete, undamaged template with the head's starting state for `seed`."""
        return (self.folder / _head_state_file(seed)).is_file() and self._intact()

    def _intact(self) -> bool:
        if self.info is None:
            return False
        try:
            with zipfile.ZipFile(self.folder / MODEL_FILE) as archive:
                return WEIGHTS_ENTRY in archive.namelist() and archive.testzip() is None
        except (OSError, zipfile.BadZipFile):
            return False

    @property
    def description(self) -> dict:
        return self.info["description"]

    # --- a run from the template -------------------------------------------------------------

    def restore_head_start(self, head_layers, seed) -> None:
        """Give freshly built head layers the starting state (weights, dropout seed) that the
        run which built the whole network had for `seed`."""
        variables = [v for layer in head_layers for v in layer.variables]
        with np.load(self.folder / _head_state_file(seed), allow_pickle=False) as arrays:
            values = [arrays[f"v{index}"] for index in range(len(arrays.files))]
        if [tuple(v.shape) for v in values] != [tuple(v.shape) for v in variables]:
            raise ConfigError("the template's head does not fit this head")
        for variable, value in zip(variables, values):
            variable.assign(value)

    def write(self, path: str | os.PathLike, head_weights: list) -> None:
        """Write the full model with `head_weights` (in `head.get_weights()` order) to `path`."""
        places = self.info["head_weights"]
        if len(places) != len(head_weights):
            raise ConfigError(f"the template has {len(places)} head weights, got "
                             f"{len(head_weights)}")
        import h5py

        with zipfile.ZipFile(self.folder / MODEL_FILE) as source:
            weights = io.BytesIO(source.read(WEIGHTS_ENTRY))
            with h5py.File(weights, "r+") as store:
                for place, value in zip(places, head_weights):
                    dataset = store[place["path"]]
                    if tuple(dataset.shape) != tuple(np.shape(value)):
                        raise ConfigError(f"{place['path']} has shape {dataset.shape}, the head "
                                         f"weight {np.shape(value)}")
                    dataset[...] = value
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as target:
                for entry in source.infolist():
                    data = weights.getvalue() if entry.filename == WEIGHTS_ENTRY \
                        else source.read(entry.filename)
                    target.writestr(entry, data)

    # --- keeping a template ------------------------------------------------------------------

    def keep(self, saved_model: str | os.PathLike, head_weights: list, head_start: list,
             seed, description: dict) -> bool:
        """Keep `saved_model` (a run's best.keras, whose head holds `head_weights`) as this
        key's template, and `head_start` (the head layers' variables before training) for
        `seed`. Returns False, keeping nothing new, when a head weight cannot be found in the
        file exactly once or the folder cannot be written: runs then build the network."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self._intact():
                places = _locate(saved_model, head_weights)
                if places is None:
                    return False
                with atomic.atomic_path(self.folder / MODEL_FILE, suffix=".keras") as tmp:
                    shutil.copyfile(saved_model, tmp)
                atomic.write_text(self.folder / INFO_FILE, json.dumps(
                    {"key": self.key, "head_weights": places, "description": description},
                    indent=1))
                self._info = None
            with atomic.atomic_path(self.folder / _head_state_file(seed), suffix=".npz") as tmp:
                np.savez(tmp, **{f"v{index}": np.asarray(value)
                                 for index, value in enumerate(head_start)})
            return self.info is not None
        except (OSError, zipfile.BadZipFile):
            return False  # only a speed-up: a read-only or full cache folder is fine


def _locate(saved_model, head_weights: list) -> list[dict] | None:
    """The dataset of the saved weights that holds each head weight, found by shape and
    value; None unless every weight matches exactly one dataset, and no two the same."""
    import h5py

    wanted = [np.asarray(value) for value in head_weights]
    shapes = {tuple(value.shape) for value in wanted}
    candidates = []
    with zipfile.ZipFile(saved_model) as archive, \
            h5py.File(io.BytesIO(archive.read(WEIGHTS_ENTRY)), "r") as store:
        store.visititems(lambda name, item: candidates.append((name, item[()]))
                         if isinstance(item, h5py.Dataset) and tuple(item.shape) in shapes
                         else None)
    places = []
    for value in wanted:
        matches = [name for name, data in candidates
                   if data.dtype == value.dtype and np.array_equal(data, value)]
        if len(matches) != 1:
            return None
        places.append({"path": matches[0], "shape": list(value.shape)})
    if len({place["path"] for place in places}) != len(places):
        return None
    return places
