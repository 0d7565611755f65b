"""Training: from a dataset folder and a user's choices to a run folder.

The entry points are re-exported here; see core.training.trainer for the flow.
"""
from core.training.config import TrainingConfig
from core.errors import TrainingError
from core.training.resume import resume_training
from core.training.trainer import scan_for_training, train

__all__ = ["TrainingConfig", "TrainingError", "resume_training", "scan_for_training", "train"]
