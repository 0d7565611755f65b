"""Step 2, Augment: set the random changes applied to training pictures and see them live.

Every slider change asks the preview worker for new tiles (`core.data.augmentation.preview.preview`). Only
the newest request is kept while one is being drawn, so dragging a slider never queues up
stale work and the grid follows the slider.

The default preset, Recommended, is decided from the pictures: when a dataset is loaded,
`decide_augmentation` (core.data.augmentation.decide: a few seconds) runs on its own worker
lane with the training's seed, and the page previews the decided settings with their reasons.
Training then asks for augment="auto" and the engine decides the same from the same pictures.
"""
from __future__ import annotations

import random
import time
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QStackedWidget, QVBoxLayout, QWidget)

from gui.qt_augment_controls import QtAugmentControls
from gui.qt_card import QtCard
from gui.qt_elided_label import QtElidedLabel
from gui.qt_empty_state import QtEmptyState
from gui.qt_image_grid import QtImageGrid
from gui.qt_images import qimage_from_array, thumbnail
from gui.qt_project_state import ProjectState
from gui.qt_step_page import QtStepPage
from gui.qt_wheel_guard import guard_wheel
from gui.qt_workers import QtWorkerRunner

_IMAGE_CACHE: OrderedDict[str, object] = OrderedDict()
_IMAGE_CACHE_SIZE = 8


def _cached_image(path: str):
    """The decoded picture at `path` (read once; the preview lane is the only user)."""
    from core.data.imageio import read_image

    image = _IMAGE_CACHE.pop(path, None)
    if image is None:
        image = read_image(path)
    _IMAGE_CACHE[path] = image
    while len(_IMAGE_CACHE) > _IMAGE_CACHE_SIZE:
        _IMAGE_CACHE.popitem(last=False)
    return image


def decide_augmentation(scan):
    """Worker job: the augmentation the engine will decide for `scan` (same samples, same
    seed as a training with the default seed)."""
    from core.data.augmentation.decide import choose_augmentation
    from core.training.config import TrainingConfig

    seed = TrainingConfig.__dataclass_fields__["seed"].default
    return choose_augmentation(scan.samples("train"), scan.samples("validation"),
                               scan.num_classes, seed=seed)


def render_preview(path: str, config: dict, n: int, seed: int, size: int) -> dict:
    """Worker job: `n` augmented tiles of the picture at `path` as QImages, with timings."""
    from core.data.augmentation.preview import preview

    started = time.perf_counter()
    image = _cached_image(path)
    tiles = preview(image, config, n=n, seed=seed, size=size)
    return {"tiles": [qimage_from_array(tile) for tile in tiles],
            "original": thumbnail(image, 88),
            "engine_ms": (time.perf_counter() - started) * 1000}


class QtAugmentPage(QtStepPage):
    """The Augment step: knobs on the left, a live grid of augmented pictures on the right.

    Signals:
        previewUpdated(float): a new grid is on screen; the value is the milliseconds from the
            change that asked for it to the grid being set.
    """

    previewUpdated = Signal(float)

    def __init__(self, state: ProjectState, runner: QtWorkerRunner, parent: QWidget | None = None) -> None:
        super().__init__("Step 2 \u00b7 Augment",
                         "During training every picture is changed a little at random, so the "
                         "model learns the object rather than one exact photo. Move a slider and "
                         "watch the examples change.", "Next: Train \u2192", parent)
        self._state = state
        self._runner = runner
        self._image_path: str | None = None
        self._seed = 0
        self._pending: tuple | None = None
        self._in_flight = False
        self._visited = False
        self.last_preview_ms: float | None = None

        row = QHBoxLayout()
        row.setSpacing(12)
        controls_card = QtCard("Settings")
        self.controls = QtAugmentControls()
        self._restore_settings()
        self.controls.configChanged.connect(self._on_config_changed)
        scroll = QScrollArea()
        scroll.setObjectName("augmentScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.controls)
        self._wheel_guard = guard_wheel(self.controls)
        controls_card.body.addWidget(scroll)
        controls_card.setMinimumWidth(350)  # narrower windows: the preview keeps its room
        controls_card.setMaximumWidth(370)
        row.addWidget(controls_card)

        preview_card = QtCard("What the model will see")
        self._preview_stack = QStackedWidget()
        self.empty_state = QtEmptyState("images", "No pictures yet",
                                        "Load a folder in step 1 (or try the demo) to see how "
                                        "these settings change your pictures.")
        self.empty_state.add_action("Go to step 1", self._on_go_to_data, primary=True,
                                    tooltip="Choose your pictures first.")
        self._preview_stack.addWidget(self.empty_state)
        self._preview_stack.addWidget(self._build_preview_view())
        preview_card.body.addWidget(self._preview_stack, 1)
        preview_card.header.removeWidget(preview_card.note_label)
        preview_card.header.addWidget(self.count_combo)
        row.addWidget(preview_card, 1)
        self.body.addLayout(row, 1)

        state.datasetChanged.connect(self._on_dataset_changed)
        state.datasetSwitched.connect(self._on_dataset_switched)
        state.set_augmentation(self.controls.config(), self.controls.preset())
        self._decision_job = None

    def _build_preview_view(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        top = QHBoxLayout()
        top.setSpacing(10)
        self.original_label = QLabel()
        self.original_label.setObjectName("originalThumb")
        self.original_label.setFixedSize(92, 92)
        self.original_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.original_label.setToolTip("The original picture, unchanged.")
        captions = QVBoxLayout()
        captions.setSpacing(2)
        self.image_title = QtElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self.image_title.setObjectName("imageTitle")
        self.image_class = QLabel()  # wraps: a class name is never cut
        self.image_class.setObjectName("imageClass")
        self.image_class.setWordWrap(True)
        self.image_note = QLabel("Original on the left; nine random versions below.")
        self.image_note.setObjectName("mutedNote")
        self.image_note.setWordWrap(True)
        captions.addStretch(1)
        captions.addWidget(self.image_title)
        captions.addWidget(self.image_class)
        captions.addWidget(self.image_note)
        captions.addStretch(1)
        self.another_button = QPushButton("Another picture")
        self.another_button.setObjectName("anotherImageButton")
        self.another_button.setToolTip("Preview a different picture from your training set.")
        self.another_button.clicked.connect(self._on_another_clicked)
        self.reshuffle_button = QPushButton("\u21BB  Reshuffle")
        self.reshuffle_button.setObjectName("reshuffleButton")
        self.reshuffle_button.setToolTip("Draw new random versions with the same settings.")
        self.reshuffle_button.clicked.connect(self._on_reshuffle_clicked)
        self.count_combo = QComboBox()
        self.count_combo.setObjectName("previewCountCombo")
        self.count_combo.addItem("9 versions", 9)
        self.count_combo.addItem("16 versions", 16)
        self.count_combo.setToolTip("How many random versions to show.")
        self.count_combo.setAccessibleName("Number of versions")
        self.count_combo.currentIndexChanged.connect(self._on_count_changed)
        top.addWidget(self.original_label)
        top.addLayout(captions, 1)
        layout.addLayout(top)
        self.preview = QtImageGrid()
        self.preview.setObjectName("augmentPreview")
        self.preview.setToolTip("Random versions of the picture, made with the settings on the left.")
        self.preview.setAccessibleName("Augmentation preview")
        self.preview.set_placeholder("Preparing the preview\u2026")
        layout.addWidget(self.preview, 1)
        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addStretch(1)
        actions.addWidget(self.another_button)
        actions.addWidget(self.reshuffle_button)
        layout.addLayout(actions)
        return view

    # -- public API ------------------------------------------------------------------------
    def was_visited(self) -> bool:
        return self._visited

    def on_shown(self) -> None:
        self._visited = True
        if self._image_path is None:
            self._pick_image()
        elif self._pending is None and not self._in_flight and self.preview.generation == 0:
            self.request_preview()

    def set_image(self, path: str) -> None:
        """Preview the picture at `path`."""
        self._image_path = path
        name = Path(path).name
        label = Path(path).parent.name
        self.image_title.setText(name)
        self.image_class.setText(f"class \u201c{label}\u201d")
        self.image_title.setToolTip(path)
        self._preview_stack.setCurrentIndex(1)
        self.request_preview()

    def request_preview(self) -> None:
        """Ask for a new grid with the current settings; only the newest request is kept."""
        if self._image_path is None:
            return
        n = self.count_combo.currentData()
        size = 160 if n <= 9 else 128
        self._pending = (self._image_path, self.controls.config(), n, self._seed, size,
                         time.perf_counter())
        if not self._in_flight:
            self._submit_pending()
        else:
            self.preview.set_note("updating\u2026")

    # -- preview worker --------------------------------------------------------------------
    def _submit_pending(self) -> None:
        path, config, n, seed, size, asked = self._pending
        self._pending = None
        self._in_flight = True
        self._runner.submit("preview", render_preview, path, config, n, seed, size,
                            doing="drawing the preview",
                            on_result=lambda result: self._on_preview_ready(result, asked),
                            on_error=self._on_preview_failed, on_done=self._on_preview_done)

    def _on_preview_ready(self, result: dict, asked: float) -> None:
        self.preview.set_images(result["tiles"])
        self.original_label.setPixmap(QPixmap.fromImage(result["original"]))
        elapsed = (time.perf_counter() - asked) * 1000
        self.last_preview_ms = elapsed
        self.preview.set_note("" if self._pending is None else "updating\u2026")
        self.previewUpdated.emit(elapsed)

    def _on_preview_failed(self, report) -> None:
        self.preview.set_placeholder(report.message)

    def _on_preview_done(self) -> None:
        self._in_flight = False
        if self._pending is not None:
            self._submit_pending()

    # -- user actions ----------------------------------------------------------------------
    @Slot(dict, str)
    def _on_config_changed(self, config: dict, preset: str) -> None:
        self._state.set_augmentation(config, preset)
        self._state.settings.save_project(augmentation={"preset": preset, "config": config})
        self.request_preview()

    def restore_settings(self) -> None:
        """Another project was opened: its preset or own settings (see `_restore_settings`)."""
        saved = self._state.settings.project().get("augmentation")
        if isinstance(saved, dict) and saved.get("preset") == "auto" \
                and self.controls.preset() != "auto":
            self.controls.choose_preset("auto")
        self._restore_settings()

    def _restore_settings(self) -> None:
        """The project's preset or own settings from the last session (Recommended is decided
        again from the pictures); settings that no longer check out are forgotten."""
        from core.data.augmentation.presets import load_augmentation
        from core.errors import StudioError

        saved = self._state.settings.project().get("augmentation")
        preset = saved.get("preset") if isinstance(saved, dict) else None
        if not isinstance(preset, str) or preset == "auto":
            return
        try:
            config = load_augmentation(saved.get("config") if preset == "custom" else preset)
        except (StudioError, ValueError, TypeError):
            return
        self.controls.set_config(config.to_dict(), preset)
        self._state.set_augmentation(self.controls.config(), preset)

    def _pick_image(self) -> None:
        scan = self._state.scan
        if scan is None:
            self._preview_stack.setCurrentIndex(0)
            return
        samples = scan.splits.get("train") or [s for split in scan.splits.values() for s in split]
        if samples:
            self.set_image(random.choice(samples).path)

    @Slot()
    def _on_another_clicked(self) -> None:
        self._pick_image()

    @Slot()
    def _on_reshuffle_clicked(self) -> None:
        self._seed += 1
        self.request_preview()

    @Slot()
    def _on_count_changed(self) -> None:
        n = self.count_combo.currentData()
        self.image_note.setText(f"Original on the left; {'nine' if n == 9 else 'sixteen'} "
                                "random versions below.")
        self.request_preview()

    @Slot()
    def _on_go_to_data(self) -> None:
        self.stepRequested.emit(0)

    # -- the recommendation ----------------------------------------------------------------
    def _decide(self) -> None:
        """Decide the Recommended settings for the loaded pictures, off the GUI thread."""
        if self._decision_job is not None:
            self._decision_job.cancel()  # an older dataset's: its result is not wanted
        scan = self._state.scan
        self.controls.set_deciding(scan is not None)
        self._state.set_augmentation(self.controls.config(), self.controls.preset())
        self._decision_job = None
        if scan is None:
            return
        self._decision_job = self._runner.submit(
            "augment-decide", decide_augmentation, scan, doing="looking at your pictures",
            on_result=lambda choice: self._on_decided(scan, choice),
            on_error=self._on_decision_failed)

    def _on_decided(self, scan, choice) -> None:
        if scan is not self._state.scan:  # the dataset changed meanwhile
            return
        self._decision_job = None
        self._state.set_augmentation_choice(choice)
        if self.controls.set_recommended(choice.config.to_dict(), choice.reasons, choice.mirror):
            self._state.set_augmentation(self.controls.config(), self.controls.preset())
            self.request_preview()

    def _on_decision_failed(self, report) -> None:
        self._decision_job = None
        self.controls.reasons_label.setText("The pictures could not be looked at (" +
                                            report.message.rstrip(".") + "); training decides "
                                            "again when it starts.")

    @Slot()
    def _on_dataset_switched(self) -> None:
        self._visited = self.isVisible()  # step 2 is done again for the new pictures

    @Slot()
    def _on_dataset_changed(self) -> None:
        self._image_path = None
        self._decide()
        if self.isVisible():
            self._pick_image()
        elif self._state.scan is not None:
            self._preview_stack.setCurrentIndex(1)
            self.preview.set_placeholder("Preparing the preview\u2026")
        else:
            self._preview_stack.setCurrentIndex(0)
