"""A TensorFlow workaround: free the graphs a finished training traced (else a GUI session grows without bound)."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def released_tensorflow_graphs():
    """Let TensorFlow free the graphs a training traced once it is over.

    TensorFlow's default distribution strategy sums gradients through a `custom_gradient`
    (distribute_lib.ReplicaContext.all_reduce), which registers a gradient function in a
    process-wide registry that is never emptied; that function keeps the whole traced train
    step alive: about 8-12 MB per LeNet run, far more for big backbones, so a GUI session
    that trains many times grows without bound. The entries this training added are dropped
    when it ends (they are only used while tracing gradients *through* the optimizer
    update, which nothing does).
    """
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    before = set(registry) if isinstance(registry, dict) else None
    try:
        yield
    finally:
        if before is not None:
            for name in [name for name in list(registry)
                         if name not in before and str(name).startswith("CustomGradient-")]:
                registry.pop(name, None)
