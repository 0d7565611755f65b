"""Words a non-programmer understands: engine errors without command-line flags, "not sure"
near guessing, plain names for expert settings, evaluation results as a CSV table."""
from __future__ import annotations

import csv

import pytest

from test_gui_support import child, make_window, shapes, trained_run, window  # noqa: F401


@pytest.mark.parametrize("engine, expected", [
    ("No pretrained weights are on this computer (pass --weights FILE once, or put the files "
     "in ~/.keras/models).", "choose a weights file once"),
    ("The run also has final.keras; try that one (--which final).", "try that one."),
    ("/r has already finished all 4 epochs; pass --epochs with a larger total (e.g. --epochs "
     "9) to train it further.", "choose more epochs in total (for example 9)"),
    ("The weights file w.h5 holds MobileNetV2 0.35, but --alpha 1 was given; pass --alpha 0.35 "
     "or leave out --model to let the app choose.", "choose network width 0.35"),
    ("Received --alpha 0.35 for small_cnn, which has no width multiplier.",
     "The network width 0.35 was chosen for small_cnn"),
    ("Check --model and --alpha: <Conv2D name=Conv1, built=True> does not match.",
     "Check the model and the network width: the layer Conv1 does not match."),
])
def test_engine_errors_are_said_without_command_line_flags(engine, expected):
    from core.errors import TrainingError
    from gui.qt_errors import describe_error

    message = describe_error(TrainingError(engine)).message
    assert expected in message
    assert "--" not in message and "<" not in message


def test_not_sure_near_guessing():
    from gui.qt_answer_card import answer_words, gallery_caption

    unsure = {"path": "/p/cat.jpg", "label": "cat", "probability": 0.56}
    sure = {"path": "/p/cat.jpg", "label": "cat", "probability": 0.99}
    headline, words, flag = answer_words(unsure, 2)
    assert flag and headline == "Not sure \u2013 maybe cat" and "close to guessing" in words
    assert answer_words(sure, 2) == ("cat", "99% sure", False)
    assert not answer_words({**unsure, "probability": 0.56}, 10)[2]  # 10 classes: 10% is chance
    assert gallery_caption(unsure, 2) == "cat?\n56%" and gallery_caption(sure, 2) == "cat\n99%"


def test_expert_settings_have_plain_names(window):
    controls = window.augment_page.controls
    rescale = controls.editor("rescale")
    assert rescale.currentText() == "0\u20131 (standard)" and "255" in rescale.toolTip()
    from PySide6.QtWidgets import QLabel

    texts = " ".join(label.text() for label in window.findChildren(QLabel))
    assert "Pixel scale" not in texts and "1/255" not in texts
    from gui.qt_transfer_options import OPTION_WORDS, VALUE_WORDS

    assert OPTION_WORDS["pooling"][0] == "Summing up features"
    assert "CAM" in OPTION_WORDS["pooling"][1]  # the expert name stays, in the tooltip
    assert "Keras blog" not in VALUE_WORDS["flatten"]
    assert not hasattr(window.augment_page, "timing_label")  # "Preview drawn in 78 ms" is gone


def test_evaluation_results_export_as_csv(make_window, trained_run, shapes, qtbot, tmp_path):
    window = make_window(runs_root=trained_run.parent, warm_up=False)
    window.open_run(str(trained_run))
    qtbot.waitUntil(lambda: window.state.run is not None, timeout=20000)
    window.show_step(3)
    window.predict_page.evaluate(str(shapes))
    panel = window.predict_page.evaluate_panel
    qtbot.waitUntil(lambda: panel.report() is not None, timeout=120000)
    assert "Double-click one to see where the model looked" in panel.gallery_note.text() \
        or panel.report()["misclassified"] == []
    out = tmp_path / "evaluation.csv"
    window.predict_page.export_evaluation(str(out))
    qtbot.waitUntil(out.exists, timeout=10000)
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0] == "accuracy" and float(rows[0][1]) == pytest.approx(
        panel.report()["accuracy"], abs=1e-6)
    assert ["class", "precision", "recall", "f1", "pictures"] in rows
    assert len([r for r in rows if r and r[0] == "circle"]) == 2  # per class, confusion row
    assert child(window, "exportEvaluationButton").isVisibleTo(window)
    # The shapes are the run's own pictures: said by contents, not by how the folder looks.
    assert panel.report()["seen"]["count"] == panel.report()["n"]
    assert "also in the folder the model was trained on" in panel.summary_label.text()

    from core.data.demo import make_demo_dataset

    new = make_demo_dataset(tmp_path / "new_shapes", images_per_class=8, image_size=40, seed=11)
    window.predict_page.evaluate(str(new))
    qtbot.waitUntil(lambda: panel.report() is not None and panel.report()["n"] == 24,
                    timeout=120000)
    assert panel.report()["seen"]["count"] == 0
    assert "None of these pictures is in the folder the model was trained on" \
        in panel.summary_label.text()


def test_pictures_are_found_by_contents_not_by_place(shapes, tmp_path):
    import shutil

    from core.data.overlap import files_also_in

    picture = sorted((shapes / "circle").iterdir())[0]
    copy = tmp_path / "elsewhere" / "renamed.jpg"
    copy.parent.mkdir()
    shutil.copyfile(picture, copy)
    other = tmp_path / "other.jpg"
    other.write_bytes(picture.read_bytes()[:-1] + b"x")  # same size, other contents
    assert files_also_in([str(copy), str(other)], shapes) == [str(copy)]
    assert files_also_in([str(copy)], tmp_path / "missing") == []
