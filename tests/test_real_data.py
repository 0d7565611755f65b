"""Real photos from ../shared: LeNet on GTSRB signs, a small CNN on cats and dogs."""
import shutil

import numpy as np
import pytest

from conftest import shared_path
from core.inference.evaluation import evaluate_run
from core.data.imageio import read_image
from core.inference.prediction import Predictor
from core.training import TrainingConfig
from core.training import train

pytestmark = pytest.mark.slow


def test_lenet_reads_unseen_traffic_signs(tmp_path):
    data = shared_path("datasets", "traffic_signs")
    result = train(TrainingConfig(str(data), str(tmp_path / "lenet"), model="lenet",
                                  image_size=32, epochs=12, batch_size=32, optimizer="adam",
                                  augment="none", seed=1))
    assert result["best_val_accuracy"] >= 0.90
    # The validation split holds other physical signs than training: unseen signs.
    report = evaluate_run(tmp_path / "lenet", data)
    assert report["split"] == "validation" and report["n"] == 702
    assert report["accuracy"] >= 0.90


def test_small_cnn_on_cats_and_dogs_predicts_and_explains_a_real_photo(tmp_path):
    source = shared_path("datasets", "cats_dogs")
    subset = tmp_path / "cats_dogs"
    for split, count in (("train", 150), ("validation", 40)):
        for label in ("cats", "dogs"):
            folder = subset / split / label
            folder.mkdir(parents=True)
            for path in sorted((source / split / label).iterdir())[:count]:
                shutil.copy(path, folder / path.name)
    result = train(TrainingConfig(str(subset), str(tmp_path / "run"), model="small_cnn",
                                  image_size=64, epochs=3, batch_size=32, augment="default",
                                  seed=2))
    assert result["status"] == "finished" and result["epochs_completed"] == 3
    photo = sorted((source / "validation" / "dogs").iterdir())[-1]  # not in the subset
    predictor = Predictor(tmp_path / "run")
    prediction = predictor.predict_paths([photo])[0]
    assert prediction["label"] in ("cats", "dogs")
    assert sum(p for _, p in prediction["top"]) == pytest.approx(1.0, abs=1e-4)  # both classes
    image = read_image(photo)
    heatmap, method = predictor.explain(image)
    assert method == "gradcam" and heatmap.shape == image.shape[:2]
    assert heatmap.std() > 0.01 and np.isfinite(heatmap).all()
