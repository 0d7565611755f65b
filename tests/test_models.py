"""Every from-scratch model builds at its sizes, has the right head, and trains a step."""
import numpy as np
import pytest

from core.models import registry
from core.models.registry import MODEL_REGISTRY, available_models, build_model, get_model_spec
from core.models.outputs import loss_for
from core.models.optimizers import make_optimizer
from core.models.summary import model_summary

SCRATCH = ["small_cnn", "cnn4", "lenet", "gap_cnn", "compact_cnn"]


def test_registry_lists_the_scratch_models_with_descriptions():
    names = [spec.name for spec in available_models("scratch")]
    assert names == SCRATCH
    for spec in available_models("scratch"):
        assert spec.description and spec.title
        assert spec.min_image_size <= spec.default_image_size


def test_unknown_model_names_the_available_ones():
    with pytest.raises(ValueError, match="Available models: .*small_cnn"):
        get_model_spec("resnet9000")


def test_a_model_listed_twice_is_refused(monkeypatch):
    lenet = MODEL_REGISTRY["lenet"]
    monkeypatch.setattr(registry, "SCRATCH_MODELS", [lenet, lenet])
    with pytest.raises(ValueError, match="listed twice"):
        registry._build_registry()


@pytest.mark.parametrize("name", SCRATCH)
@pytest.mark.parametrize("num_classes", [2, 4])
def test_model_builds_trains_a_step_and_outputs_probabilities(name, num_classes):
    size = max(get_model_spec(name).min_image_size, 32)
    model = build_model(name, num_classes, size)
    units = 1 if num_classes == 2 else num_classes
    assert model.output_shape == (None, units)
    assert model.layers[-1].activation.__name__ == ("sigmoid" if num_classes == 2 else "softmax")
    model.compile(optimizer=make_optimizer("adam"), loss=loss_for(num_classes),
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (8, size, size, 3)).astype("float32")
    y = rng.integers(0, num_classes, 8)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    probs = model.predict(x[:2], verbose=0)
    assert np.all((probs >= 0) & (probs <= 1))
    if num_classes > 2:
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_classic_architectures_match_their_sources():
    small = build_model("small_cnn", 2, 150)
    convs = [l.filters for l in small.layers if l.__class__.__name__ == "Conv2D"]
    assert convs == [32, 32, 64]
    assert small.get_layer("dense").units == 64 and small.get_layer("dropout").rate == 0.5
    cnn4 = build_model("cnn4", 2, 150)
    assert [l.filters for l in cnn4.layers if l.__class__.__name__ == "Conv2D"] == [32, 64, 128, 128]
    assert cnn4.get_layer("dense").units == 512
    lenet = build_model("lenet", 10, 32)
    convs = [l for l in lenet.layers if l.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [(20, (5, 5)), (50, (5, 5))]
    assert lenet.get_layer("dense").units == 500
    summary = model_summary(lenet)
    assert "Total params" in summary and f"{lenet.count_params():,}" in summary


def test_too_small_input_is_refused_with_the_minimum():
    with pytest.raises(ValueError, match="at least 48 px"):
        build_model("cnn4", 2, 32)


def test_models_take_raw_pixels_and_normalise_inside():
    model = build_model("lenet", 3, 32, rescale=1 / 255)
    assert model.get_layer("rescale").scale == pytest.approx(1 / 255)


@pytest.mark.parametrize("name,expected", [("rmsprop", "RMSprop"), ("adam", "Adam"),
                                           ("sgd", "SGD"), ("adadelta", "Adadelta")])
def test_optimizers(name, expected):
    optimizer = make_optimizer(name, 0.01)
    assert optimizer.__class__.__name__ == expected
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    if name == "sgd":
        assert optimizer.momentum == pytest.approx(0.9)


def test_bad_optimizer_and_learning_rate():
    with pytest.raises(ValueError, match="Unknown optimizer"):
        make_optimizer("lbfgs")
    with pytest.raises(ValueError, match="positive"):
        make_optimizer("adam", -1)
