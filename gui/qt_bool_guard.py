"""Work-around for a PySide6 6.12.0 bug: every `Signal.emit()` drops one reference to `True`.

With that bug, a long session (each training batch and each plot redraw emits signals, many of
them inside pyqtgraph) eventually drives the reference count of `True` to zero and the
interpreter aborts with "bool_dealloc: deallocating True or False".

The guard checks once whether emitting leaks, and only then keeps a reserve of references to
`True` topped up. The reserve lists are deliberately never freed (their own reference count is
raised once), so nothing gives those references back at exit. Extra references to `True`
are harmless, so the guard stays safe when PySide is fixed (it then does nothing at all).
"""
from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, QTimer, Signal

RESERVE_CHUNK = 500_000  # 4 MB of list slots, about 500,000 emits of headroom
LOW_WATER = 200_000
CHECK_MS = 2000

_keep_alive: list = []


class _Probe(QObject):
    signal = Signal()


def emit_leaks_true_references() -> bool:
    """True when this PySide build loses a reference to `True` on each emit."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(32):
        probe.signal.emit()
    return sys.getrefcount(True) <= before - 16


def _add_reserve() -> None:
    reserve = [True] * RESERVE_CHUNK
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(reserve))  # never freed, never gives them back
    _keep_alive.append(reserve)


class TrueReferenceGuard(QObject):
    """Tops up references to `True` whenever they run low (GUI thread, every 2 s)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.top_up)
        self._timer.start()
        self.top_up()

    def top_up(self) -> None:
        while sys.getrefcount(True) < LOW_WATER:
            _add_reserve()


def install(app: QObject) -> TrueReferenceGuard | None:
    """Install the guard on `app` once, if this PySide needs it; returns it (or None)."""
    existing = app.findChild(TrueReferenceGuard)
    if existing is not None:
        return existing
    if not emit_leaks_true_references():
        return None
    guard = TrueReferenceGuard(app)
    guard.setObjectName("trueReferenceGuard")
    return guard
