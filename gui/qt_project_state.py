"""The project's current state shared by every page: dataset, augmentation, model, runs.

Pages never talk to each other directly; they change this object and listen to its signals
(the napari pattern of a model with events and views that follow it). It holds what the engine
returned, unchanged; it runs no engine code itself.

A project is a dataset, its runs and its settings. It is remembered in the app's settings
(`AppSettings.save_project`) and reopened at launch. Loading another dataset folder starts
afresh: the run of the old pictures is put away (`datasetSwitched` tells the pages to forget
what belonged to them), and a run opened later whose classes differ from the pictures'
says so (`run_mismatch`).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.qt_settings import AppSettings, same_folder

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
        review_summary: what the person's review and marks give the next training (see
            core.data.review_apply: "num_added", "held_back", ...), {} when nothing.
    """

    datasetChanged = Signal()
    datasetSwitched = Signal()  # another folder (not the same one scanned again); before datasetChanged
    projectRestored = Signal(dict)  # after datasetChanged: the new folder's remembered project
    augmentationChanged = Signal()
    runChanged = Signal()
    runsChanged = Signal()
    trainingChanged = Signal(bool)
    reviewChanged = Signal()  # review_summary changed

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
        self.review_summary: dict = {}
        project = self.settings.project()
        self.run_names: dict = dict(project.get("run_names") or {})
        self.hide_failed = bool(project.get("hide_failed", False))
        split = project.get("val_split")
        if isinstance(split, (int, float)) and 0.05 <= split <= 0.5:
            self.val_split = float(split)

    @property
    def demo_dir(self) -> Path:
        """Where "Try the demo" writes its generated dataset (beside the runs folder)."""
        return self.runs_root.parent / "demo_dataset"

    def set_dataset(self, data_dir: Path, scan) -> None:
        switched = self.data_dir is None or not same_folder(self.data_dir, data_dir)
        restored = self._switch_project(data_dir) if switched else {}
        self.data_dir = Path(data_dir)
        self.scan = scan
        self.augmentation_choice = None  # decided again for these pictures
        self.settings.add_recent_folder(self.data_dir)
        self.settings.save_project(dataset=str(self.data_dir.resolve()), val_split=self.val_split)
        if switched:
            if self.run is not None and not same_folder(getattr(self.run, "dataset_root", ""),
                                                         self.data_dir):
                self.set_run(None)  # the old pictures' model: step 3 and 4 start afresh
            self.datasetSwitched.emit()
        self.datasetChanged.emit()
        if restored:
            self.projectRestored.emit(restored)

    def _switch_project(self, data_dir) -> dict:
        """Another folder than the project's: keep the project as it was left in the recent
        projects and make the new folder's remembered project (its run, training and
        augmentation settings) the current one. Returns that project ({} for a new folder;
        the pages keep their settings then)."""
        current = self.settings.project()
        if not current.get("dataset") or same_folder(current["dataset"], data_dir):
            return {}  # the same project (reopened at launch, say)
        self.settings.remember_project(current)
        saved = self.settings.project_for(data_dir)
        values = {key: saved[key] for key in ("run", "training", "augmentation") if key in saved}
        if values:
            self.settings.save_project(**values)
        return saved if values else {}

    def run_mismatch(self) -> str:
        """A sentence when the run in use does not fit the loaded pictures, else ""."""
        run, scan = self.run, self.scan
        if run is None or scan is None or list(run.labels) == list(scan.classes):
            return ""
        known = ", ".join(run.labels[:6]) + ("…" if len(run.labels) > 6 else "")
        return (f"This model was trained on other classes ({known}), not on the "
                f"{len(scan.classes)} classes of your pictures; its answers can only be "
                "one of its own classes. Train a new model in step 3 for these pictures.")

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
        self.settings.save_project(run=str(run.path) if run is not None else "")
        self.runChanged.emit()

    def set_review_summary(self, summary: dict) -> None:
        self.review_summary = dict(summary or {})
        self.reviewChanged.emit()

    def set_runs(self, runs: list) -> None:
        self.runs = list(runs)
        self.runsChanged.emit()

    def run_name(self, path) -> str:
        """The name a person gave the run, else its folder's name."""
        return self.run_names.get(str(Path(path)), "") or Path(path).name

    def rename_run(self, path, name: str) -> None:
        """Give a run a name for the list (its folder keeps its name: nothing on disk moves)."""
        name = " ".join(name.split())
        if name and name != Path(path).name:
            self.run_names[str(Path(path))] = name
        else:
            self.run_names.pop(str(Path(path)), None)
        self.settings.save_project(run_names=self.run_names)
        self.runsChanged.emit()

    def forget_run(self, path) -> None:
        """A deleted run: forget its name, and stop using it if it was in use."""
        self.run_names.pop(str(Path(path)), None)
        self.settings.save_project(run_names=self.run_names)
        if self.run is not None and Path(self.run.path) == Path(path):
            self.set_run(None)

    def set_hide_failed(self, hide: bool) -> None:
        self.hide_failed = bool(hide)
        self.settings.save_project(hide_failed=self.hide_failed)
        self.runsChanged.emit()

    def set_training(self, training: bool) -> None:
        if training != self.training:
            self.training = training
            self.trainingChanged.emit(training)

    def num_images(self) -> int:
        if self.scan is None:
            return 0
        return sum(len(samples) for samples in self.scan.splits.values())
