"""The training modes: one runner per mode, each `runner(session) -> model`.

A new mode is a module with a runner function (see core.training.scratch), listed here and in
the model specs that support it (core.models).
"""
from __future__ import annotations

from typing import Callable

from core.training.scratch import run_scratch
from core.training.session import TrainingSession
from core.training.transfer.bottleneck import run_bottleneck, run_fusion
from core.training.transfer.finetune import run_finetune
from core.training.transfer.frozen import run_frozen

MODE_RUNNERS: dict[str, Callable[[TrainingSession], object]] = {
    "scratch": run_scratch, "bottleneck": run_bottleneck, "frozen": run_frozen,
    "finetune": run_finetune, "fusion": run_fusion}
