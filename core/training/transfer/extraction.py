"""Running frozen bases over pictures, streamed a batch at a time, on every local device, with
the feature cache written as it fills (a killed extraction resumes where it stopped).

Nothing holds the pictures of the whole dataset: tf.data decodes a batch (or, on several
devices, a chunk of batches) at a time, and only the pooled features are kept, in the
`FeatureCache` of each base. The caches are saved every `SAVE_EVERY_SECONDS` (and at the
end, also when cancelled), so a run that is killed loses at most that much extraction: the
next run finds the saved rows in the cache and extracts only the rest.
"""
from __future__ import annotations

import time

from core.util.progress import Cancelled, notify

# Saving rewrites a cache file whole (atomically), so it is spaced out: at least this many
# seconds apart, and at least SAVE_COST_FACTOR times the last save's own duration apart (for
# very large caches, saving then costs at most 1/SAVE_COST_FACTOR of the extraction time).
SAVE_EVERY_SECONDS = 10.0
SAVE_COST_FACTOR = 5.0
CHUNK_BATCHES = 16  # several devices: batches per Keras predict call


class _Saver:
    """Saves the caches now and then while they fill."""

    def __init__(self, caches, log, every: float):
        self.caches, self.log, self.every = caches, log, every
        self.last, self.interval = time.perf_counter(), every

    def maybe_save(self) -> None:
        if time.perf_counter() - self.last >= self.interval:
            self.save()

    def save(self) -> None:
        started = time.perf_counter()
        for cache in self.caches:
            try:
                cache.save()
            except OSError as error:
                self.log(f"Could not write the feature cache {cache.path}: {error}")
        spent = time.perf_counter() - started
        self.last = time.perf_counter()
        self.interval = max(self.every, SAVE_COST_FACTOR * spent)


def run_extraction(session, network, caches, todo, path_of, make_dataset, progress,
                   save_every: float | None = None) -> None:
    """Extract `todo` (digests) into `caches` (one per base of `network`); progress[0]
    counts the images done. Reports on_stage("extract", total) and on_step(done, total),
    checks `session.cancel` between batches, and saves the caches every `save_every`
    seconds (default SAVE_EVERY_SECONDS; the caller saves them at the end)."""
    if not todo:
        return
    total = len(todo)
    notify(session.listener, "on_stage", "extract", total)
    distribution, batch = session.distribution, session.batch_size  # the global batch
    branches = [network.branches[choice.name] for choice in network.choices]
    saver = _Saver(caches, lambda text: notify(session.listener, "on_log", text),
                   SAVE_EVERY_SECONDS if save_every is None else save_every)

    def store(batch_digests, outputs) -> None:
        for output, cache in zip(outputs, caches):
            if output is not None:
                cache.put(batch_digests, output)  # rows a cache holds already are skipped
        progress[0] += len(batch_digests)
        notify(session.listener, "on_step", progress[0], total)
        saver.maybe_save()

    if distribution is not None and distribution.replicas > 1 and distribution.workers == 1:
        _on_local_devices(session, branches, network.input_size, todo, path_of, make_dataset,
                          batch, store)
    else:
        # One device, or one worker of a cluster (each extracts on its own: features need no
        # collective step, and the cluster's reduction of predict outputs would mix them).
        dataset = make_dataset([path_of[d] for d in todo], list(range(total)),
                               network.input_size, batch, is_native=session.scan.is_native)
        for images, positions in dataset:
            session.cancel.raise_if_cancelled()
            batch_digests = [todo[int(i)] for i in positions.numpy()]
            store(batch_digests, [_missing_features(branch, cache, images, batch_digests,
                                                    distribution)
                                  for branch, cache in zip(branches, caches)])
    session.cancel.raise_if_cancelled()


def _missing_features(branch, cache, images, batch_digests, distribution):
    """The base's features of the batch, or None when its cache holds them all (a fusion
    whose other base was cached already); rows the cache holds come back as zeros, which
    `put` skips."""
    import numpy as np

    rows = [i for i, d in enumerate(batch_digests) if d not in cache]
    if not rows:
        return None
    batch = images if len(rows) == len(batch_digests) else images.numpy()[rows]
    if distribution is not None and distribution.workers > 1:
        features = branch(batch, training=False).numpy()
    else:
        features = branch.predict_on_batch(batch)
    if len(rows) == len(batch_digests):
        return features
    full = np.zeros((len(batch_digests), features.shape[1]), np.float32)
    full[rows] = features
    return full


def _on_local_devices(session, branches, size, todo, path_of, make_dataset, batch,
                      store) -> None:
    """Several local devices: Keras's predict splits each batch across the replicas of the
    strategy in scope. A pass-through input carries each picture's position, so pictures
    that could not be read (dropped by the pipeline) do not shift the rows."""
    import keras

    image = keras.Input(branches[0].input.shape[1:], name="image")
    position = keras.Input((), dtype="int32", name="position")
    wrapper = keras.Model([image, position],
                          [branch(image) for branch in branches] + [keras.layers.Identity()(position)])
    cancel = session.cancel

    class StopWhenCancelled(keras.callbacks.Callback):
        def on_predict_batch_end(self, step, logs=None):
            if cancel.cancelled:
                raise Cancelled("Stopped by the user.")

    chunk = batch * CHUNK_BATCHES
    for start in range(0, len(todo), chunk):
        cancel.raise_if_cancelled()
        digests = todo[start:start + chunk]
        dataset = make_dataset([path_of[d] for d in digests], list(range(len(digests))), size,
                               batch, is_native=session.scan.is_native)
        dataset = dataset.map(lambda images, positions: ((images, positions),))
        outputs = wrapper.predict(dataset, verbose=0, callbacks=[StopWhenCancelled()])
        *features, positions = outputs
        store([digests[int(i)] for i in positions], features)
