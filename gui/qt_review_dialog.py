"""The Review window (issue 16), opened from the Data step: pictures that are probably in the
wrong folder (or unlike every class), each beside examples of its folder and of the class it
looks like, with "Keep", "Exclude from training" and "Belongs to <class>".

Decisions go to `core.data.review.ReviewStore` (a JSON file in the app's settings folder),
never to the person's folders; training and evaluation apply them. "Undo" takes back the last
decision (also after a restart); "Show excluded" brings excluded pictures back into view.
The engine's work runs on the worker lane "review" (`gui.qt_review_jobs`).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QCheckBox, QDialog, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QMenu, QPushButton, QScrollArea, QToolButton, QVBoxLayout,
                               QWidget)

from core.errors import StudioError
from gui.qt_review_jobs import (EXAMPLE_SIZE, MAX_SUSPECTS, SUSPECT_SIZE, Findings, Suspect,
                                find_suspects, load_review_pictures)

WORDS = {"keep": "Kept as it is", "exclude": "Excluded from training",
         "relabel": "Belongs to {label} (your folders are not changed)"}


def open_review_dialog(page, state, runner) -> "QtReviewDialog | None":
    """What the Data page's Review button does: open the window for the scanned folder."""
    from core.models.weights_store import settings_dir

    if state.scan is None:
        page.notify("Open a folder of pictures first; then the app can look for pictures "
                    "that may be in the wrong folder.", "info")
        return None
    dialog = QtReviewDialog(state.scan, settings_dir(), runner, page)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.start()
    return dialog


def open_review_of(parent, scan, settings_folder, runner, suspects: list[Suspect],
                   intro: str) -> "QtReviewDialog":
    """The Review window on these pictures only (a Data-step warning's pictures, say), each
    with its Keep / Exclude / Belongs to; no network looks at the data."""
    dialog = QtReviewDialog(scan, settings_folder, runner, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show_only(suspects, intro)
    dialog.show()
    return dialog


class _Picture(QLabel):
    """A square thumbnail (grey until its picture arrives), the file name as tooltip."""

    def __init__(self, path: str, size: int, parent=None) -> None:
        super().__init__(parent)
        self.path = path
        self.setFixedSize(size, size)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #eceff1; border-radius: 4px;")
        self.setToolTip(path)
        self.setAccessibleName(f"Picture {Path(path).name}")

    def show_image(self, image) -> None:
        self.setPixmap(QPixmap.fromImage(image))


class _SuspectRow(QFrame):
    """One suspect: its picture and why, examples of its folder and of the suggested class,
    the three decisions and the decision taken."""

    decided = Signal(str, str, object)  # path, action, label

    def __init__(self, suspect: Suspect, classes: list[str], examples: dict, parent=None):
        super().__init__(parent)
        self.suspect = suspect
        self.setObjectName("reviewRow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.pictures: list[_Picture] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(14)

        own = QVBoxLayout()
        picture = self._picture(suspect.path, SUSPECT_SIZE)
        own.addWidget(picture)
        name = QLabel(Path(suspect.path).name)
        name.setStyleSheet("font-weight: 600;")
        own.addWidget(name)
        reason = f"In {suspect.given}; {suspect.why}"
        if suspect.score is not None:
            reason += f" ({(1 - suspect.score) * 100:.0f}% sure)"
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        self.reason.setMaximumWidth(SUSPECT_SIZE + 40)
        own.addWidget(self.reason)
        own.addStretch(1)
        layout.addLayout(own)

        compare = QGridLayout()
        compare.setHorizontalSpacing(6)
        shown = [suspect.given] + ([suspect.suggested] if suspect.suggested else [])
        for row, label in enumerate(shown):
            caption = QLabel(f"Its folder, {label}:" if label == suspect.given
                             else f"Pictures of {label}:")
            compare.addWidget(caption, 2 * row, 0, 1, 4)
            for column, path in enumerate(examples.get(label, [])):
                compare.addWidget(self._picture(path, EXAMPLE_SIZE), 2 * row + 1, column)
        compare.setRowStretch(2 * len(shown), 1)
        layout.addLayout(compare)
        layout.addStretch(1)

        buttons = QVBoxLayout()
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("The picture is right where it is: stop suggesting it.")
        self.keep_button.clicked.connect(lambda: self.decided.emit(suspect.path, "keep", None))
        self.exclude_button = QPushButton("Exclude from training")
        self.exclude_button.setToolTip("Training and evaluation leave this picture out; the "
                                       "file stays where it is.")
        self.exclude_button.clicked.connect(
            lambda: self.decided.emit(suspect.path, "exclude", None))
        self.move_button = QToolButton()
        self.move_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        others = [name for name in classes if name != suspect.given]
        target = suspect.suggested if suspect.suggested in others else (others or [None])[0]
        self.move_button.setText(f"Belongs to {target}" if target else "Belongs to \u2026")
        self.move_button.setEnabled(target is not None)
        self.move_button.setToolTip("Train on this picture as that class; the file is not moved.")
        self.move_button.clicked.connect(lambda: self.decided.emit(suspect.path, "relabel", target))
        menu = QMenu(self.move_button)
        for name in others:
            menu.addAction(f"Belongs to {name}",
                           lambda name=name: self.decided.emit(suspect.path, "relabel", name))
        self.move_button.setMenu(menu)
        for button in (self.keep_button, self.exclude_button, self.move_button):
            button.setMinimumWidth(190)
            buttons.addWidget(button)
        self.state = QLabel("")
        self.state.setObjectName("reviewDecision")
        self.state.setWordWrap(True)
        self.state.setMaximumWidth(200)
        buttons.addWidget(self.state)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    def _picture(self, path: str, size: int) -> _Picture:
        picture = _Picture(path, size)
        self.pictures.append(picture)
        return picture

    def show_decision(self, decision: dict | None) -> None:
        action = (decision or {}).get("action")
        self.state.setText(WORDS[action].format(label=decision.get("label")) if action else "")
        self.setStyleSheet("#reviewRow { background: %s; }" % {
            None: "palette(base)", "keep": "#eef7ee", "exclude": "#f3f3f3",
            "relabel": "#eef3fb"}[action])


class QtReviewDialog(QDialog):
    """The Review window for one scanned dataset. `start()` asks the engine for suspects on
    the worker lane; `show_findings` (and `show_pictures`) fill it, also without a runner."""

    decisionsChanged = Signal()

    def __init__(self, scan, settings_folder, runner=None, parent: QWidget | None = None):
        from core.data.review import ReviewStore

        super().__init__(parent)
        self.setWindowTitle("Review your pictures")
        self.setObjectName("reviewDialog")
        self.resize(1180, 720)
        self.scan = scan
        self.runner = runner
        self.store = ReviewStore(scan.root, settings_folder)
        self.findings: Findings | None = None
        self.rows: dict[str, _SuspectRow] = {}
        self.pictures: dict = {}
        self._jobs: list = []
        self.intro = ""  # set by show_only: the window then lists only the pictures given

        layout = QVBoxLayout(self)
        title = QLabel("Pictures that may be in the wrong folder")
        title.setStyleSheet("font-size: 17px; font-weight: 600;")
        self.title = title
        layout.addWidget(title)
        self.summary = QLabel("Looking at every picture with a network pretrained on photos\u2026")
        self.summary.setObjectName("reviewSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        bar = QHBoxLayout()
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Take back your last decision.")
        self.undo_button.clicked.connect(self.undo)
        self.show_excluded = QCheckBox("Show excluded")
        self.show_excluded.setToolTip("Also list the pictures you excluded from training.")
        self.show_excluded.toggled.connect(self._refresh)
        self.note = QLabel("Your decisions are kept by the app; your folders are never changed.")
        self.note.setStyleSheet("color: palette(mid);")
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bar.addWidget(self.undo_button)
        bar.addWidget(self.show_excluded)
        bar.addWidget(self.note, 1)
        bar.addWidget(close)
        layout.addLayout(bar)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.container = QWidget()
        self.list_layout = QVBoxLayout(self.container)
        self.list_layout.setSpacing(8)
        self.list_layout.addStretch(1)
        self.scroll.setWidget(self.container)
        layout.addWidget(self.scroll, 1)
        self._refresh()

    # --- the engine's work ---------------------------------------------------------------------

    def start(self) -> None:
        """Find the suspects on the worker lane "review" (features are cached: the second
        time takes seconds)."""
        from gui.qt_progress_listener import QtProgressListener

        listener = QtProgressListener(self)
        listener.step.connect(lambda done, total: self.summary.setText(
            f"Looking at every picture with a network pretrained on photos\u2026 {done} of {total}"))
        self._jobs.append(self.runner.submit(
            "review", find_suspects, self.scan, listener=listener, cancellable=True,
            doing="looking for pictures in the wrong folder", on_result=self.show_findings,
            on_error=self._on_failed, on_cancelled=lambda: None))

    def _on_failed(self, report) -> None:
        self.summary.setText(report.message)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        for job in self._jobs:
            job.cancel()
        super().closeEvent(event)

    def show_only(self, suspects: list[Suspect], intro: str) -> None:
        """List only `suspects` (with a few examples of their classes), said by `intro`."""
        self.intro = intro
        self.title.setText("Decide about these pictures")
        self.show_excluded.setChecked(True)  # the pictures asked for stay in view
        listed = {suspect.path for suspect in suspects}
        examples: dict = {}
        for samples in self.scan.splits.values():
            for sample in samples:
                label = self.scan.classes[sample.label]
                if sample.path not in listed and len(examples.setdefault(label, [])) < 4:
                    examples[label].append(sample.path)
        self.show_findings(Findings(list(self.scan.classes), list(suspects), examples))

    def show_findings(self, findings: Findings) -> None:
        self.findings = findings
        suspects = findings.suspects[:MAX_SUSPECTS]
        for suspect in suspects:
            self._add_row(suspect)
        for rel in [] if self.intro else self.store.excluded():  # excluded, not suspected now
            path = str(Path(self.scan.root) / rel)
            if path not in self.rows:
                self._add_row(Suspect(path, self._class_of(path), None, None, "excluded by you"))
        sizes = {path: SUSPECT_SIZE for path in self.rows}
        wanted = list(self.rows) + [path for paths in findings.examples.values() for path in paths]
        if self.runner is not None:
            self._jobs.append(self.runner.submit(
                "review", load_review_pictures, wanted, sizes=sizes, cancellable=True,
                doing="loading the pictures", on_result=self.show_pictures,
                on_error=lambda report: None, on_cancelled=lambda: None))
        self._refresh()

    def show_pictures(self, pictures: dict) -> None:
        self.pictures.update(pictures)
        for row in self.rows.values():
            for picture in row.pictures:
                if picture.path in self.pictures:
                    picture.show_image(self.pictures[picture.path])

    def _class_of(self, path: str) -> str:
        for samples in self.scan.splits.values():
            for sample in samples:
                if sample.path == path:
                    return self.scan.classes[sample.label]
        return Path(path).parent.name

    def _add_row(self, suspect: Suspect) -> None:
        row = _SuspectRow(suspect, list(self.scan.classes), self.findings.examples, self.container)
        row.decided.connect(self.decide)
        self.list_layout.insertWidget(self.list_layout.count() - 1, row)
        self.rows[suspect.path] = row

    # --- decisions -----------------------------------------------------------------------------

    def decide(self, path: str, action: str, label=None) -> None:
        info = self.scan.info.get(path)
        try:
            self.store.decide(path, action, label, info.digest if info else None,
                              self.scan.classes)
        except StudioError as error:  # e.g. the settings folder cannot be written: say so
            self.summary.setText(str(error))
            return
        self._refresh()
        self.decisionsChanged.emit()

    def undo(self) -> None:
        try:
            undone = self.store.undo()
        except StudioError as error:
            self.summary.setText(str(error))
            return
        if undone is not None:
            self._refresh()
            self.decisionsChanged.emit()

    def _refresh(self) -> None:
        show_excluded = self.show_excluded.isChecked()
        for path, row in self.rows.items():
            decision = self.store.decision(path)
            row.show_decision(decision)
            row.setVisible(show_excluded or (decision or {}).get("action") != "exclude")
        self.undo_button.setEnabled(bool(self.store.history))
        if self.findings is None:
            return
        if self.intro:
            decided = [self.store.decision(path) for path in self.rows]
            counts = {action: sum((d or {}).get("action") == action for d in decided)
                      for action in ("keep", "exclude", "relabel")}
            self.summary.setText(f"{self.intro} So far you excluded {counts['exclude']}, moved "
                                 f"{counts['relabel']} and kept {counts['keep']}.")
            return
        counts = self.store.counts()  # also "add": pictures marked on the Predict step
        issues = sum(s.suggested is not None for s in self.findings.suspects)
        odd = len(self.findings.suspects) - issues
        shown = min(len(self.findings.suspects), MAX_SUSPECTS)
        text = (f"{issues} picture(s) look like another class and {odd} look unlike every "
                f"class (the {shown} most suspicious are listed). You excluded "
                f"{counts['exclude']}, moved {counts['relabel']} and kept {counts['keep']}.")
        leaks = sum(kind != "same class" for kind, _ in self.findings.near_duplicates)
        if self.findings.near_duplicates:
            text += (f" {len(self.findings.near_duplicates)} group(s) of near-identical pictures"
                     + (f", {leaks} of them across classes or splits" if leaks else "") + ".")
        self.summary.setText(text)
