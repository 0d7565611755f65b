"""`ModelSpec`: what the GUI and the command line need to know about an architecture before building it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class ModelSpec:
    """What the GUI and CLI need to know about an architecture before building it."""

    name: str
    title: str
    description: str
    builder: Callable
    default_image_size: int
    min_image_size: int
    family: str = "scratch"  # "scratch" or "transfer"
    modes: tuple = ("scratch",)
    seconds_hint: str = ""  # how long it takes on a 2-core laptop, in words
    options: dict = field(default_factory=dict)
