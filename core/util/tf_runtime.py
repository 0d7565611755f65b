"""Loading TensorFlow without its start-up chatter, quickly, and without freezing a GUI.

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


def _import_keras_without_sklearn() -> None:
    """Import Keras while hiding scikit-learn from it.

    Keras imports scikit-learn at start-up only for its optional `keras.wrappers` (which we
    do not use), and that costs 0.5-1.3 s of every command here. With `sys.modules` holding
    None for it, Keras's guarded import sees "not installed"; the entry is removed right
    after, so our own `import sklearn` (linear heads, metrics) loads it normally when needed.
    """
    if "sklearn" in sys.modules:  # already loaded: nothing to save
        import keras  # noqa: F401
        return
    sys.modules["sklearn"] = None
    try:
        import keras  # noqa: F401
    finally:
        if sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]


def _preload_tensorflow_libraries() -> None:
    """dlopen TensorFlow's two big shared libraries (1.2 GB) without holding the GIL.

    Importing TensorFlow loads them from inside an extension module's import, which holds the
    GIL for the whole half second; in the GUI process, where TensorFlow loads on a worker
    thread, that froze the window for 450-650 ms. A ctypes call to libc's dlopen releases the
    GIL, and the import then finds the libraries already loaded. Same flags as Python's own
    extension loading (RTLD_NOW, local); any failure just leaves the work to the import.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import importlib.util

        spec = importlib.util.find_spec("tensorflow")
        if spec is None or not spec.submodule_search_locations:
            return
        folder = list(spec.submodule_search_locations)[0]
        libc = ctypes.CDLL(None)
        libc.dlopen.restype = ctypes.c_void_p
        libc.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        for name in ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2"):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                libc.dlopen(os.fsencode(path), os.RTLD_NOW)  # the handle stays open for good
    except (OSError, AttributeError, ValueError, ImportError):
        pass


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
        # The import makes hundreds of thousands of objects, none of them garbage: collecting
        # while it runs only costs time (0.2-0.7 s here).
        collecting = gc.isenabled()
        gc.disable()
        try:
            _preload_tensorflow_libraries()
            _import_keras_without_sklearn()
            import tensorflow as tf

            # Probing for GPUs logs a CUDA error on machines without one; do it now, quietly.
            tf.config.list_physical_devices()
            # TensorFlow's hundreds of thousands of long-lived objects need no garbage
            # collection: freezing them saves about a second at every command's exit.
            gc.freeze()
        finally:
            if collecting:
                gc.enable()
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
    return tf
