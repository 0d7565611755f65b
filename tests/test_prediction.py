"""Prediction, heatmaps and evaluation with trained runs."""
import numpy as np
import pytest

from core.errors import EvaluationError
from core.inference.evaluation import evaluate_run
from core.data.imageio import read_image
from core.inference.prediction import Predictor, probabilities_from_outputs


def first_image(folder):
    return sorted(p for p in folder.iterdir() if p.suffix == ".jpg")[0]


def test_sigmoid_output_becomes_two_probabilities():
    probs = probabilities_from_outputs(np.array([[0.8], [0.1]]))
    assert np.allclose(probs, [[0.2, 0.8], [0.9, 0.1]])


def test_predict_paths_ranks_labels_and_reports_unreadable(small_cnn_run, demo_dataset, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"<html>not an image</html>")
    predictor = Predictor(small_cnn_run)
    paths = [first_image(demo_dataset / c) for c in ("circle", "square", "triangle")]
    results = predictor.predict_paths(paths + [broken])
    for result in results[:3]:
        assert result["label"] in predictor.labels
        assert [label for label, _ in result["top"]][0] == result["label"]
        probs = [p for _, p in result["top"]]
        assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=1e-4)
    assert results[3]["label"] is None and results[3]["error"]


def test_prediction_matches_the_pipeline_used_for_evaluation(small_cnn_run, demo_dataset):
    predictor = Predictor(small_cnn_run)
    path = first_image(demo_dataset / "square")
    from_file = predictor.predict_paths([path])[0]
    from_array = predictor.predict_arrays([read_image(path)])[0]
    assert from_file["probability"] == pytest.approx(from_array.max(), abs=1e-5)


@pytest.mark.parametrize("fixture,method", [("small_cnn_run", "gradcam"), ("gap_cnn_run", "cam")])
def test_heatmap_has_the_image_size_and_is_not_flat(request, demo_dataset, fixture, method):
    predictor = Predictor(request.getfixturevalue(fixture))
    image = read_image(first_image(demo_dataset / "triangle"))
    heatmap, used = predictor.explain(image)
    assert used == method
    assert heatmap.shape == image.shape[:2]
    assert 0.0 <= heatmap.min() and heatmap.max() <= 1.0
    assert heatmap.std() > 0.01


def test_evaluate_reports_accuracy_confusion_and_mistakes(gap_cnn_run, demo_dataset):
    report = evaluate_run(gap_cnn_run, demo_dataset)
    assert report["n"] == 180 and report["labels"] == ["circle", "square", "triangle"]
    confusion = np.array(report["confusion"])
    assert confusion.shape == (3, 3) and confusion.sum() == 180
    assert report["accuracy"] == pytest.approx(np.trace(confusion) / 180, abs=1e-6)
    assert len(report["misclassified"]) == 180 - np.trace(confusion)
    for item in report["misclassified"]:
        assert item["true"] != item["predicted"]
    assert set(report["per_class"]["circle"]) == {"precision", "recall", "f1", "support"}
    assert report["loss"] > 0


def test_evaluate_on_foreign_classes_says_so(gap_cnn_run, tmp_path):
    from core.data.demo import draw_shape
    import cv2
    for name in ("apples", "pears"):
        (tmp_path / name).mkdir()
        for i in range(2):
            image = draw_shape("circle", 32, np.random.default_rng(i))
            cv2.imwrite(str(tmp_path / name / f"{i}.png"), image)
    with pytest.raises(EvaluationError, match="None of the classes"):
        evaluate_run(gap_cnn_run, tmp_path)
