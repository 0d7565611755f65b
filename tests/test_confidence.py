"""core.inference.confidence: the Wilson interval and the "barely better than guessing" verdict."""
from __future__ import annotations

import json

import pytest

from core.inference.confidence import assess_accuracy, wilson_interval


@pytest.mark.parametrize("correct, total, low, high", [
    (90, 100, 0.8256, 0.9448),   # the textbook example
    (50, 100, 0.4038, 0.5962),
    (0, 10, 0.0, 0.2775),        # stays inside [0, 1] where the normal approximation does not
    (10, 10, 0.7225, 1.0),
    (1, 1, 0.2065, 1.0),
])
def test_wilson_interval_matches_known_values(correct, total, low, high):
    assert wilson_interval(correct, total) == pytest.approx((low, high), abs=1e-4)


def test_no_pictures_means_no_knowledge():
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_more_pictures_narrow_the_interval():
    widths = [high - low for low, high in (wilson_interval(9 * n, 10 * n) for n in (1, 10, 100))]
    assert widths[0] > widths[1] > widths[2]


def test_chance_level_result_says_so_in_plain_words():
    result = assess_accuracy(0.55, 100, {"cats": 50, "dogs": 50})
    assert result["barely_better"]
    assert result["text"].startswith("55.0% right on 100 pictures (95% interval: 45.2% to 64.4%).")
    assert "barely better than guessing 'cats' for every picture (50%" in result["verdict"]
    json.dumps(result)  # goes into evaluation.json and config.json as is


def test_majority_class_is_the_baseline_when_classes_are_imbalanced():
    # 85% right looks good, but 80% of the pictures are dogs: the interval reaches below 80%.
    result = assess_accuracy(0.85, 100, {"cats": 20, "dogs": 80})
    assert result["barely_better"] and "guessing 'dogs'" in result["verdict"]
    assert result["majority_rate"] == 0.8


def test_worse_than_guessing_is_called_no_better():
    result = assess_accuracy(0.3, 100, {"a": 50, "b": 50})
    assert "no better than guessing" in result["verdict"]


def test_a_good_model_gets_no_warning():
    result = assess_accuracy(0.97, 400, {"cats": 200, "dogs": 200})
    assert not result["barely_better"] and result["verdict"] == ""
    assert result["interval"] == [pytest.approx(0.9484, abs=1e-4), pytest.approx(0.9828, abs=1e-4)]
    assert "barely" not in result["text"]


def test_evaluate_panel_shows_the_interval_and_the_verdict(qtbot):
    from gui.qt_evaluate_panel import QtEvaluatePanel

    panel = QtEvaluatePanel()
    qtbot.addWidget(panel)
    report = {"accuracy": 0.55, "loss": 0.69, "n": 100, "labels": ["cats", "dogs"],
              "confusion": [[30, 20], [25, 25]], "misclassified": [], "split": "validation",
              "data": "/data/pets", "unreadable": [], "ignored_classes": [],
              "assessment": assess_accuracy(0.55, 100, {"cats": 50, "dogs": 50})}
    panel.set_report(report)
    text = panel.summary_label.text()
    assert "between 45.2% and 64.4%" in text and "barely better than guessing" in text
    panel.set_report(report | {"accuracy": 0.97, "n": 400,
                               "assessment": assess_accuracy(0.97, 400, {"cats": 200, "dogs": 200})})
    assert "between 94.8% and 98.3%" in panel.summary_label.text()
    assert "barely" not in panel.summary_label.text()
    del report["assessment"]  # evaluation.json written by an older version
    panel.set_report(report)
    assert "55.0%" in panel.summary_label.text()
