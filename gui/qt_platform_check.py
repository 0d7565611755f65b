"""Before the window opens on Linux: are the system libraries Qt's X11 ("xcb") plugin needs
installed? Without them Qt stops with "Could not load the Qt platform plugin 'xcb'", which
tells a person nothing; this says which packages to install, with the exact command.

Qt is not imported here: the check must run before `QApplication` exists.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import sys

# The shared libraries PySide6 6's xcb plugin (libqxcb.so, libQt6XcbQpa.so) links to, read
# from their ELF headers, with the package that has each one on Debian/Ubuntu, Fedora, Arch.
XCB_LIBRARIES = (
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image", "xcb-util-image"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil",
     "xcb-util-renderutil"),
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util", "xcb-util"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb", "libxcb"),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb", "libxcb"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb", "libxcb"),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb", "libxcb"),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb", "libxcb"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb", "libxcb"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb", "libxcb"),
    ("libxcb.so.1", "libxcb1", "libxcb", "libxcb"),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb", "libx11"),
    ("libX11.so.6", "libx11-6", "libX11", "libx11"),
)
INSTALLERS = (("apt-get", "sudo apt install", 1), ("dnf", "sudo dnf install", 2),
              ("pacman", "sudo pacman -S", 3))


def uses_xcb(environ=os.environ, platform: str = sys.platform) -> bool:
    """True when Qt will open the window through X11 (xcb) on this Linux computer."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    # Without a choice Qt takes Wayland in a Wayland session, else xcb.
    return not environ.get("WAYLAND_DISPLAY")


def missing_libraries(load=ctypes.CDLL) -> list[tuple]:
    """The rows of `XCB_LIBRARIES` whose library the system cannot load."""
    missing = []
    for row in XCB_LIBRARIES:
        try:
            load(row[0])
        except OSError:
            missing.append(row)
    return missing


def install_command(missing: list[tuple], which=shutil.which) -> str:
    """The command that installs the missing libraries with this computer's package manager
    (apt when none is recognised)."""
    for tool, command, column in INSTALLERS:
        if which(tool):
            break
    else:
        command, column = "sudo apt install", 1
    packages = list(dict.fromkeys(row[column] for row in missing))
    return f"{command} {' '.join(packages)}"


def check_platform(environ=os.environ, platform: str = sys.platform, load=ctypes.CDLL,
                   which=shutil.which) -> str:
    """A message for the terminal when the window cannot open for lack of system libraries,
    else ""."""
    if not uses_xcb(environ, platform):
        return ""
    missing = missing_libraries(load)
    if not missing:
        return ""
    names = ", ".join(row[0] for row in missing)
    return ("Image Classifier Studio cannot open its window: the system libraries Qt needs to "
            f"draw windows on Linux (X11) are missing ({names}).\n"
            f"Install them with:\n\n    {install_command(missing, which)}\n\n"
            "then start the app again. (The command line, python main.py --help, works "
            "without them.)")
