"""The project's current state shared by every page: dataset, augmentation, model, runs.

Pages never talk to each other directly; they change this object and listen to its signals
(the napari pattern of a model with events and views that follow it). It holds what the engine
returned, unchanged; it runs no engine code itself.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.qt_settings import AppSettings

DEFAULT_HOME = Path.home() / "ImageClassifierStudio"


class ProjectState(QObject):
    """What the user has chosen so far.

    Attributes:
        runs_root: folder where training runs are written and listed.
        data_dir: the loaded dataset folder, or None.
        scan: the engine's `DatasetScan` of `data_dir`, or None.
        val_split: share of each class kept for validation when the folder has no split.
        augmentation: the augmentation config as a dict (`AugmentationConfig.to_dict()`).
        augmentation_preset: preset name the config came from ("auto": Recommended, decided
            from the pictures), or "custom" once edited.
        augmentation_choice: the `AugmentationChoice` decided for `scan` (config and reasons),
            or None while it is being decided.
        run: the engine `Run` used for predictions (the last trained or reopened run).
        runs: summaries from `core.runs.run.list_runs(runs_root)`, newest first.
        training: True while a training job runs.
    """

    datasetChanged = Signal()
    augmentationChanged = Signal()
    runChanged = Signal()
    runsChanged = Signal()
    trainingChanged = Signal(bool)

    def __init__(self, runs_root: Path | None = None, settings: AppSettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs_root = Path(runs_root) if runs_root else DEFAULT_HOME / "runs"
        self.settings = settings or AppSettings()
        self.data_dir: Path | None = None
        self.scan = None
        self.val_split = 0.2
        self.augmentation: dict | None = None
        self.augmentation_preset = "auto"
        self.augmentation_choice = None
        self.run = None
        self.runs: list = []
        self.training = False

    @property
    def demo_dir(self) -> Path:
        """Where "Try the demo" writes its generated dataset (beside the runs folder)."""
        return self.runs_root.parent / "demo_dataset"

    def set_dataset(self, data_dir: Path, scan) -> None:
        self.data_dir = Path(data_dir)
        self.scan = scan
        self.augmentation_choice = None  # decided again for these pictures
        self.settings.add_recent_folder(self.data_dir)
        self.datasetChanged.emit()

    def set_augmentation(self, config: dict, preset: str = "") -> None:
        self.augmentation = dict(config)
        self.augmentation_preset = preset
        self.augmentationChanged.emit()

    def set_augmentation_choice(self, choice) -> None:
        self.augmentation_choice = choice
        self.augmentationChanged.emit()

    def augment_setting(self):
        """What a training request carries: "auto" with Recommended (the engine decides again
        from the same pictures with the same seed, so it gets what the page showed), else the
        config as shown."""
        if self.augmentation_preset == "auto" or self.augmentation is None:
            return "auto"
        return dict(self.augmentation)

    def set_run(self, run) -> None:
        self.run = run
        self.runChanged.emit()

    def set_runs(self, runs: list) -> None:
        self.runs = list(runs)
        self.runsChanged.emit()

    def set_training(self, training: bool) -> None:
        if training != self.training:
            self.training = training
            self.trainingChanged.emit(training)

    def num_images(self) -> int:
        if self.scan is None:
            return 0
        return sum(len(samples) for samples in self.scan.splits.values())
