"""Starting the engine (TensorFlow) in the background without making the window sluggish.

TensorFlow creates its compute thread pools when it first runs an operation, and on Linux new
threads inherit the niceness of the thread that creates them. So the first operation runs in
a short-lived helper thread with a lower priority: every later TensorFlow compute thread
yields the CPU to the GUI thread, while Python worker threads (which hold the GIL the GUI
also needs) keep normal priority, so there is no priority inversion.
"""
from __future__ import annotations

import os
import threading

ENGINE_NICENESS = 10


def _start_tensorflow_pools(niceness: int, errors: list) -> None:
    try:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        except (AttributeError, OSError):
            pass  # not Linux, or not allowed: TensorFlow simply runs at normal priority
        from core.util.tf_runtime import load_tensorflow

        tf = load_tensorflow()
        float(tf.reduce_sum(tf.constant([1.0, 2.0])))  # creates the eager context and its pools
    except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
        errors.append(error)


def start_engine() -> list:
    """Worker job: load TensorFlow with low-priority compute threads; return the model specs."""
    errors: list = []
    helper = threading.Thread(target=_start_tensorflow_pools, args=(ENGINE_NICENESS, errors),
                              name="engine-start", daemon=True)
    helper.start()
    helper.join()
    if errors:
        raise errors[0]
    # Import the engine modules the app will use now, while the user reads step 1, rather than
    # when they press Train (compiling a module holds the GIL the GUI thread needs).
    import core.inference.evaluation  # noqa: F401
    import core.inference.heatmaps  # noqa: F401
    import core.inference.prediction  # noqa: F401
    import core.training.trainer  # noqa: F401
    from core.models.registry import available_models

    return available_models()
