"""Training precision: mixed_bfloat16 where the CPU computes bfloat16 natively, float32
otherwise; a mixed-precision run saves, reloads, evaluates and explains like any other."""
import numpy as np
import pytest

import core.training.precision as precision
from core.inference.evaluation import evaluate_run
from core.data.imageio import read_image
from core.inference.prediction import Predictor
from core.runs.run import Run
from core.training import TrainingConfig
from core.training import train


def test_auto_picks_bfloat16_only_on_cpus_that_compute_it(monkeypatch):
    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    assert precision.training_policy("auto") == "mixed_bfloat16"
    assert precision.training_policy("auto", 150) == "mixed_bfloat16"
    # Tiny inputs are bound by reading images; bfloat16 would only cost accuracy there.
    assert precision.training_policy("auto", 32) == "float32"
    assert precision.training_policy("mixed_bfloat16", 32) == "mixed_bfloat16"
    monkeypatch.setattr(precision, "native_bfloat16", lambda: False)
    assert precision.training_policy("auto") == "float32"
    assert precision.training_policy("float32") == "float32"
    assert precision.training_policy("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="expected one of: auto, float32, mixed_bfloat16"):
        precision.training_policy("float16")


def test_the_cpu_flags_are_read_from_proc_cpuinfo():
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        pytest.skip("no /proc/cpuinfo flags on this system")
    assert precision.native_bfloat16() == bool({"avx512_bf16", "amx_bf16"} & set(flags))


def test_the_global_policy_comes_back_after_building():
    import keras

    before = keras.config.dtype_policy().name
    with precision.dtype_policy("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
    assert layer.dtype_policy.name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before


@pytest.mark.parametrize("setting", ["mixed_bfloat16", "float32"])
def test_a_run_trains_saves_and_explains_in_its_precision(demo_dataset, tmp_path, setting):
    out = tmp_path / "run"
    result = train(TrainingConfig(str(demo_dataset), str(out), model="small_cnn", image_size=40,
                                  epochs=3, batch_size=16, augment="none", seed=3,
                                  precision=setting))
    assert result["status"] == "finished" and result["best_val_accuracy"] > 0.4  # 3 classes
    run = Run.open(out)
    assert run.config["dtype_policy"] == setting
    assert run.config["training"]["precision"] == setting
    model = run.load_model()
    compute = {layer.dtype_policy.compute_dtype for layer in model.layers if layer.weights}
    predictions = model.get_layer("predictions")
    # The layers compute in the run's precision; the probabilities always in float32.
    assert predictions.dtype_policy.compute_dtype == "float32"
    expected = "bfloat16" if setting == "mixed_bfloat16" else "float32"
    assert expected in compute
    assert all(w.dtype == "float32" for w in model.weights)  # weights stay float32
    # The saved model scores all the demo pictures (3 classes: chance is 1/3).
    assert evaluate_run(out, demo_dataset)["accuracy"] > 0.4
    predictor = Predictor(out)
    images = [read_image(p) for p in sorted(demo_dataset.rglob("*.jpg"))[:8]]
    probs = predictor.predict_arrays(images)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(probs, Predictor(out).predict_arrays(images))  # reloads the same
    image = images[0]
    heatmap, method = predictor.explain(image)
    assert method == "gradcam" and heatmap.shape == image.shape[:2] and heatmap.std() > 0.01
