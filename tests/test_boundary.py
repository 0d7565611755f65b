"""The engine must stay Qt-free: importing every core module pulls in no Qt or pyqtgraph."""
import subprocess
import sys

from conftest import PROJECT_ROOT


def test_core_imports_no_qt():
    code = (
        "import pkgutil, importlib, sys, core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('core.' + m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'gui')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"core imported Qt modules: {out.stdout.strip()}"
