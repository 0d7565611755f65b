"""Loading TensorFlow without its start-up chatter.

TensorFlow's C++ layer prints INFO lines (oneDNN, CUDA probing) to the process's stderr
before any logging setting applies. The CLI and the GUI worker call `load_tensorflow()`
first, which imports it with file descriptor 2 pointed at /dev/null for the duration of
the import only; Python exceptions raised by the import still reach the user.
"""
from __future__ import annotations

import gc
import os
import sys
import threading

_lock = threading.Lock()


def load_tensorflow():
    """Import TensorFlow and Keras once, quietly; returns the tensorflow module."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"]
    with _lock:
        saved = None
        try:
            sys.stderr.flush()
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:  # no real stderr (e.g. some GUI launchers): nothing to silence
            saved = None
        try:
            import keras  # noqa: F401
            import tensorflow as tf

            # Probing for GPUs logs a CUDA error on machines without one; do it now, quietly.
            tf.config.list_physical_devices()
            # TensorFlow's hundreds of thousands of long-lived objects need no garbage
            # collection: freezing them saves about a second at every command's exit.
            gc.freeze()
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
    return tf
