"""The engine must stay Qt-free: importing every core module pulls in no Qt or pyqtgraph."""
from conftest import run_python


def test_core_imports_no_qt():
    code = (
        "import pkgutil, importlib, sys, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'gui')]\n"
        "print(','.join(bad))\n"
    )
    bad = run_python(code).stdout.strip()
    assert bad == "", f"core imported Qt modules: {bad}"
