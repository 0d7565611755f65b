"""Memory does not grow without bound in a long GUI session: trainings keep no graph behind,
predictions keep no object behind.

These check the causes, not the process's resident memory, so a busy machine cannot make
them fail or pass: the RSS figures (50 trainings, 1,000 predictions) are rows of
`python -m bench` (bench/memory.py).

- Training: TensorFlow's default distribution strategy registers a gradient function per
  traced train step in a process-wide registry that is never emptied; each entry keeps the
  whole step alive (8-12 MB for LeNet). `released_tensorflow_graphs` drops the entries a
  training added, so after any number of trainings the registry is the size it was.
- Prediction: a leak per image (a retraced function, a kept heatmap or batch) leaves Python
  objects behind; after a warm-up, 200 more predictions with heatmaps must not leave even one
  object per prediction.
"""
from __future__ import annotations

import gc

import numpy as np

from hostile import make_run_folder
from imagefactory import make_class_folders


def _gradient_registry_size() -> int:
    from tensorflow.python.framework import ops

    return len(ops._gradient_registry._registry)


def test_trainings_leave_no_traced_graph_behind(tmp_path):
    from core.training import TrainingConfig, train

    data = make_class_folders(tmp_path / "data", {"cats": 8, "dogs": 8})

    def one_run(index: int) -> None:
        result = train(TrainingConfig(str(data), str(tmp_path / f"run{index % 2}"), model="lenet",
                                      image_size=16, epochs=1, batch_size=8, augment="none",
                                      optimizer="adam", val_split=0.0, seed=index))
        assert result["status"] == "finished"

    one_run(0)  # warm-up: TensorFlow's own first-use registrations
    before = _gradient_registry_size()
    for index in range(1, 4):
        one_run(index)
    assert _gradient_registry_size() == before


def _live_objects() -> int:
    gc.collect()
    return len(gc.get_objects())


def test_predictions_with_heatmaps_leave_no_objects_behind(tmp_path):
    from core.inference.heatmaps import annotate, overlay
    from core.inference.prediction import Predictor
    from core.models.registry import build_model

    run_dir = make_run_folder(tmp_path / "run", build_model("gap_cnn", 3, 32),
                              labels=["circle", "square", "triangle"])
    predictor = Predictor(run_dir)
    rng = np.random.default_rng(0)
    # Varying sizes, as dropped photos are: resizing must not retrace anything per size.
    images = [rng.integers(0, 256, (30 + i % 7, 40 - i % 5, 3), dtype=np.uint8) for i in range(20)]

    def predict(index: int) -> None:
        image = images[index % len(images)]
        probabilities = predictor.predict_arrays([image])[0]
        heatmap, method = predictor.explain(image)
        assert heatmap.shape == image.shape[:2] and method == "cam"
        label = int(np.argmax(probabilities))
        annotate(overlay(image, heatmap), predictor.labels[label], float(probabilities[label]))

    for index in range(40):  # warm-up: every image size once, caches filled
        predict(index)
    before = _live_objects()
    for index in range(200):
        predict(index)
    grown = _live_objects() - before
    print(f"\nlive objects after 200 more predictions: {grown:+d}")
    assert grown < 200
