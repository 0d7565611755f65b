"""Starting on a fresh Linux computer: missing X11 libraries are named, with the command
that installs them, before Qt aborts with "Could not load the Qt platform plugin 'xcb'"."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import PROJECT_ROOT
from gui.qt_platform_check import check_platform, install_command, missing_libraries, uses_xcb


def _missing(*names):
    def load(library):
        if library in names:
            raise OSError(f"{library}: cannot open shared object file")
    return load


def test_only_x11_on_linux_is_checked():
    assert uses_xcb({"DISPLAY": ":0"}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not uses_xcb({}, "darwin") and not uses_xcb({}, "win32")
    assert check_platform({"QT_QPA_PLATFORM": "offscreen"}, "linux", _missing("libxcb.so.1")) == ""


def test_the_exact_install_command_is_printed():
    load = _missing("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-shape.so.0")
    message = check_platform({}, "linux", load, which=lambda tool: tool == "apt-get")
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-shape0" in message
    assert "libxcb-cursor.so.0" in message
    fedora = install_command(missing_libraries(load), which=lambda tool: tool == "dnf")
    assert fedora == "sudo dnf install xcb-util-cursor xcb-util-wm libxcb"
    assert check_platform({}, "linux", _missing()) == ""


def test_the_app_says_so_on_this_computer_when_libraries_are_missing(tmp_path):
    if not check_platform({"QT_QPA_PLATFORM": "xcb"}, sys.platform):
        pytest.skip("this computer has every library the xcb plugin needs")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "ICS_SETTINGS_PATH": str(tmp_path / "s.ini")}
    out = subprocess.run([sys.executable, "main.py"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=60, env=env)
    assert out.returncode == 1
    assert "Install them with:" in out.stderr and "install " in out.stderr
    assert "Could not load the Qt platform plugin" not in out.stderr
