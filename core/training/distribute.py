"""Training on several devices or machines with TensorFlow's own engine, tf.distribute.

`--strategy` picks the engine (`STRATEGIES`):
- "one": the default device, no distribution (TensorFlow's default strategy).
- "mirrored": `tf.distribute.MirroredStrategy` over the local GPUs (or, without GPUs, the
  `--cpu-replicas` logical CPU devices): every replica holds the model, gradients are summed.
- "multi-worker": `tf.distribute.MultiWorkerMirroredStrategy`, configured from the TF_CONFIG
  environment variable; every machine runs the same command, task 0 (or the "chief") writes.
- "auto" (default): "mirrored" when there are several local devices (GPUs, or CPU replicas),
  else "one".

`--batch-size` is per replica; the global batch is `batch_size * replicas` (the dataset is
batched at that size and Keras splits each batch across the replicas).

Logical CPU devices must be declared before TensorFlow initialises its devices, and
MultiWorkerMirroredStrategy must be created before any other TensorFlow operation (it sets
up the collective ops of the whole cluster), so the command line calls `prepare` first.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from core.errors import ConfigError, TrainingError

STRATEGIES = ("auto", "one", "mirrored", "multi-worker")
MAX_CPU_REPLICAS = 64


def check_names(strategy, cpu_replicas) -> None:
    """Raise ConfigError with a sentence for an unknown strategy or a bad replica count."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"Received --strategy {strategy!r}; expected one of: "
                          f"{', '.join(STRATEGIES)}.")
    if cpu_replicas is not None and not 1 <= cpu_replicas <= MAX_CPU_REPLICAS:
        raise ConfigError(f"Received --cpu-replicas {cpu_replicas}; expected a whole number "
                          f"from 1 to {MAX_CPU_REPLICAS}, such as 2.")


def check_choice(strategy, cpu_replicas) -> None:
    """`check_names`, and for multi-worker a usable TF_CONFIG and no --cpu-replicas. Raises
    ConfigError with a sentence; no TensorFlow needed."""
    check_names(strategy, cpu_replicas)
    if strategy == "multi-worker":
        if cpu_replicas not in (None, 1):
            raise ConfigError(f"Received --cpu-replicas {cpu_replicas} with --strategy "
                              "multi-worker; each machine trains on its own devices there, so "
                              "leave out --cpu-replicas (or use --strategy mirrored).")
        cluster_task()


def cluster_task() -> tuple[int, int, bool]:
    """(number of workers, this worker's index, is it the chief) from TF_CONFIG.

    The chief is the "chief" task when the cluster names one, else worker 0 (TensorFlow's
    own rule). Raises ConfigError with a sentence when TF_CONFIG is missing or malformed."""
    text = os.environ.get("TF_CONFIG", "")
    example = ('such as {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}')
    if not text.strip():
        raise ConfigError("--strategy multi-worker needs the TF_CONFIG environment variable on "
                          f"every machine, {example} (index 1 on the second machine).")
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        workers = list(cluster.get("chief", [])) + list(cluster["worker"])
        if kind not in cluster or not 0 <= index < len(cluster[kind]):
            raise KeyError(kind)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(f"TF_CONFIG is {text[:80]!r}, which names no task of its cluster; "
                          f"expected JSON {example}.") from None
    position = index if kind == "chief" else index + len(cluster.get("chief", []))
    chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    return len(workers), position, chief


def writes_the_run(strategy) -> bool:
    """False for a worker of a multi-worker cluster other than the chief: it writes nothing in
    the run folder (the chief may be writing there already), so it does not check it."""
    return strategy != "multi-worker" or cluster_task()[2]


@dataclass(frozen=True)
class Distribution:
    """How a run trains: the strategy object and what config.json records of it."""

    name: str  # "one", "mirrored" or "multi-worker" ("auto" resolved)
    strategy: object  # a tf.distribute.Strategy
    replicas: int
    per_replica_batch: int
    workers: int = 1
    worker_index: int = 0
    is_chief: bool = True

    @property
    def global_batch_size(self) -> int:
        return self.per_replica_batch * self.replicas

    @property
    def several(self) -> bool:
        """More than one replica or worker: the work is spread across them."""
        return self.replicas > 1 or self.workers > 1

    @property
    def sharded(self) -> bool:
        """Each worker reads its own share of the picture files."""
        return self.workers > 1

    def record(self) -> dict:
        record = {"strategy": self.name, "replicas": self.replicas,
                  "global_batch_size": self.global_batch_size}
        return record | ({"workers": self.workers} if self.workers > 1 else {})

    def scope(self):
        """The strategy's scope; none at all on one device, so such runs build and train
        exactly as before distribution existed."""
        import contextlib

        return contextlib.nullcontext() if self.name == "one" else self.strategy.scope()


def describe(distribution: dict | None) -> str | None:
    """"Trained on 2 devices (mirrored), batch 64": the line summary.txt and the app show."""
    if not isinstance(distribution, dict):
        return None
    replicas, batch = distribution.get("replicas"), distribution.get("global_batch_size")
    if not isinstance(replicas, int) or not isinstance(batch, int):
        return None
    devices = "1 device" if replicas == 1 else f"{replicas} devices"
    workers = distribution.get("workers")
    machines = f" on {workers} machines" if isinstance(workers, int) and workers > 1 else ""
    strategy = distribution.get("strategy")
    how = f" ({strategy})" if isinstance(strategy, str) and strategy != "one" else ""
    return f"Trained on {devices}{machines}{how}, batch {batch}"


def distributed(distribution: Distribution, make, class_weight: dict | None = None):
    """A dataset each worker reads its own share of picture files from (file-level sharding:
    a worker decodes only its files), batched per replica, through TensorFlow's
    `distribute_datasets_from_function`. `make(batch_size, shard=(count, index))` builds the
    tf.data pipeline; `class_weight` becomes per-example weights (Keras maps class weights on
    plain datasets only)."""
    import tensorflow as tf

    def per_worker(context):
        batch = context.get_per_replica_batch_size(distribution.global_batch_size)
        dataset = make(batch, shard=(context.num_input_pipelines, context.input_pipeline_id))
        if class_weight:
            weights = tf.constant([float(class_weight.get(i, 1.0))
                                   for i in range(max(class_weight) + 1)], tf.float32)
            dataset = dataset.map(lambda images, labels:
                                  (images, labels, tf.gather(weights, labels)))
        return dataset

    return distribution.strategy.distribute_datasets_from_function(per_worker)


def fit_across_workers(model) -> None:
    """Let Keras 3's `fit` run under MultiWorkerMirroredStrategy (tensorflow issue 72388).

    Keras reduces each replica's logs with `strategy.reduce("MEAN", value, axis=0)` there,
    which fails on the scalar losses and metrics ("Invalid reduction dimension 0 for input
    with 0 dimensions"): the train and test steps here return each log as a one-element
    vector, which that reduction averages back into the same scalar. Keras also builds a
    model made in a scope from a first batch reduced as a whole (x, y) structure, which this
    strategy cannot reduce either: forgetting the model's strategy defers that build to the
    traced step, as for a model made outside a scope (fit still runs in the current scope's
    strategy, and the variables, made in the scope, stay distributed)."""
    import tensorflow as tf

    if getattr(model, "_distribute_strategy", None) is not None:
        model._distribute_strategy = None
    for name in ("train_step", "test_step"):
        step = getattr(type(model), name).__get__(model)

        def vector_logs(data, step=step):
            return {key: tf.reshape(value, [1]) for key, value in step(data).items()}

        setattr(model, name, vector_logs)
    # Steps traced before the change would keep the scalar logs.
    model.train_function = model.test_function = None


_made: dict = {}  # one strategy per process and choice: MultiWorkerMirroredStrategy once only


def prepare(strategy: str = "auto", cpu_replicas: int | None = None,
            batch_size: int = 32) -> Distribution:
    """Configure the devices and make the strategy (once per process and choice).

    Call before any TensorFlow operation when `cpu_replicas` is given or the strategy is
    multi-worker; raises TrainingError with a sentence when TensorFlow started too early."""
    check_choice(strategy, cpu_replicas)
    key = (strategy, cpu_replicas)
    if key not in _made:
        _made[key] = _make(strategy, cpu_replicas)
    name, made, workers, index, chief = _made[key]
    return Distribution(name=name, strategy=made, replicas=int(made.num_replicas_in_sync),
                        per_replica_batch=batch_size, workers=workers, worker_index=index,
                        is_chief=chief)


def _make(strategy: str, cpu_replicas: int | None):
    import tensorflow as tf

    if strategy == "multi-worker":
        workers, index, chief = cluster_task()
        try:
            made = tf.distribute.MultiWorkerMirroredStrategy()
        except (RuntimeError, ValueError) as error:
            raise TrainingError(f"Could not join the TF_CONFIG cluster ({_first_line(error)}); "
                                "start every worker with the same cluster list and its own "
                                "task index.") from None
        return "multi-worker", made, workers, index, chief
    cpus = _cpu_devices(tf, cpu_replicas) if cpu_replicas else None
    gpus = tf.config.list_logical_devices("GPU")
    local = [device.name for device in gpus] if gpus else \
        [device.name for device in cpus or []]
    if strategy == "one" or (strategy == "auto" and len(local) < 2):
        return "one", tf.distribute.get_strategy(), 1, 0, True
    # mirrored (or auto with several devices); with no GPU and no --cpu-replicas: the CPU
    return "mirrored", tf.distribute.MirroredStrategy(devices=local or None), 1, 0, True


def _cpu_devices(tf, replicas: int) -> list:
    """Split the CPU into `replicas` logical devices (before TensorFlow initialises them)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError:  # devices already initialised: fine if they are already split so
        if len(tf.config.list_logical_devices("CPU")) != replicas:
            raise TrainingError(f"--cpu-replicas {replicas} must be set before TensorFlow "
                                "starts, and this process already uses "
                                f"{len(tf.config.list_logical_devices('CPU'))} CPU devices; "
                                "run the training from the command line (python main.py "
                                "train ... --cpu-replicas N).") from None
    return tf.config.list_logical_devices("CPU")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
