"""Pretrained backbones with random weights (--weights none) at small sizes: each one builds,
trains a step, carries its own preprocessing and explains itself with CAM; weights files,
the offline ImageNet message, fusion names and the fine-tuning boundaries."""
import os

import numpy as np
import pytest

from conftest import shared_path

keras = pytest.importorskip("keras")

from core.models.backbones import HEADS, POOLINGS, get_backbone
from core.models.networks import BaseChoice, build_network, top_block_start, unfreeze_top
from core.models.preprocessing import CaffePreprocessing
from core.models.weights import build_base, keras_models_folder, parse_weights
from core.models.fusion import fusion_bases, fusion_sizes
from core.models.registry import get_model_spec as model_spec
from core.inference.heatmaps import HeatmapExplainer  # noqa: E402
from core.models.registry import available_models, build_model  # noqa: E402
from core.models.outputs import loss_for
from core.models.optimizers import make_optimizer

# The smallest sizes keras.applications accepts (Inception 75, Xception 71).
SMALL = {"mobilenet_v2": 32, "vgg16": 32, "resnet50": 32, "inception_v3": 75, "xception": 71,
         "efficientnet_b0": 32}
SHARED_WEIGHTS = ("weights", "mobilenet_v2_0.35_imagenet_notop.weights.h5")


def test_registry_lists_every_backbone_with_its_size_and_modes():
    specs = {spec.name: spec for spec in available_models("transfer")}
    assert set(SMALL) <= set(specs)
    for name, spec in specs.items():
        assert spec.family == "transfer" and spec.description and spec.title
        if name in SMALL:
            assert spec.modes == ("bottleneck", "frozen", "finetune")
            assert spec.default_image_size == (299 if name in ("inception_v3", "xception") else 224)
            assert spec.min_image_size == SMALL[name]
    fusion = specs["resnet50+xception+inception_v3"]
    assert fusion.modes == ("fusion",) and fusion.default_image_size == 299
    assert specs["mobilenet_v2"].options["alpha"] == [0.35, 0.5, 0.75, 1.0, 1.3, 1.4]
    scratch = [s.name for s in available_models("scratch")]
    assert scratch == ["small_cnn", "cnn4", "lenet", "gap_cnn", "compact_cnn"]


def test_cli_choices_match_the_architecture_choices():
    from core.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    choices = {action.dest: action.choices for action in train._actions}
    assert tuple(choices["head"]) == HEADS and tuple(choices["pooling"]) == POOLINGS


@pytest.mark.parametrize("name", list(SMALL))
def test_backbone_builds_trains_a_step_and_explains_with_cam(name):
    size = SMALL[name]
    model = build_model(name, 3, size, weights="none")
    assert model.input_shape == (None, size, size, 3) and model.output_shape == (None, 3)
    base = model.get_layer(name)  # the nested base is named after the backbone
    assert not base.trainable
    assert 0 < top_block_start(base, name) < len(base.layers)
    model.compile(optimizer=make_optimizer("adam"), loss=loss_for(3), metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (4, size, size, 3)).astype("float32")
    y = np.array([0, 1, 2, 1])
    base_before = [w.copy() for w in base.get_weights()]
    head_before = [w.copy() for w in model.get_layer("predictions").get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # (Random MobileNet features are tiny, so the bias is what surely moves in one step.)
    head_after = model.get_layer("predictions").get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(head_before, head_after))
    assert all(np.array_equal(a, b) for a, b in zip(base_before, base.get_weights()))
    probs = model.predict_on_batch(x)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    explainer = HeatmapExplainer(model)
    heatmap = explainer.explain(x[:1])
    assert explainer.method == "cam" and heatmap.ndim == 2
    assert 0 <= heatmap.min() and heatmap.max() <= 1


def test_preprocessing_layers_match_keras_preprocess_input(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    caffe = CaffePreprocessing()
    assert np.allclose(caffe(x), keras.applications.vgg16.preprocess_input(x.copy()), atol=1e-4)
    assert np.allclose(caffe(x), keras.applications.resnet50.preprocess_input(x.copy()), atol=1e-4)
    network = build_network([BaseChoice("mobilenet_v2", 32, "none", alpha=0.35)], 2)
    scaled = network.model.get_layer("preprocess")(x)
    expected = keras.applications.mobilenet_v2.preprocess_input(x.copy())
    assert np.allclose(scaled, expected, atol=1e-5)
    # EfficientNet rescales inside its own model: no extra layer in front of it.
    efficient = build_network([BaseChoice("efficientnet_b0", 32, "none")], 2).model
    assert "preprocess" not in [layer.name for layer in efficient.layers]
    # The custom layer reloads in safe mode (no Lambda layers anywhere).
    model = keras.Sequential([keras.Input((32, 32, 3)), CaffePreprocessing(name="preprocess")])
    model.save(tmp_path / "caffe.keras")
    loaded = keras.models.load_model(tmp_path / "caffe.keras", safe_mode=True, compile=False)
    assert np.allclose(loaded.predict_on_batch(x), model.predict_on_batch(x))


def test_shared_weights_file_loads_and_a_wrong_width_is_refused_with_a_sentence():
    path = str(shared_path(*SHARED_WEIGHTS))
    pretrained = build_base("mobilenet_v2", 32, path, alpha=0.35)
    random = build_base("mobilenet_v2", 32, "none", alpha=0.35)
    assert pretrained.count_params() == 410_208
    kernel = pretrained.get_layer("Conv1").get_weights()[0]
    assert not np.allclose(kernel, random.get_layer("Conv1").get_weights()[0])
    with pytest.raises(ValueError, match=r"does not fit mobilenet_v2 \(alpha 1.0\).*--alpha"):
        build_base("mobilenet_v2", 32, path, alpha=1.0)
    with pytest.raises(ValueError, match="does not fit vgg16"):
        build_base("vgg16", 32, path)
    identity = parse_weights(path, ["mobilenet_v2"])["mobilenet_v2"].identity()
    assert identity.startswith("sha256:") and len(identity) == 7 + 64


def test_weights_snapshot_gives_the_same_weights_and_a_bad_one_falls_back(tmp_path):
    path = str(shared_path(*SHARED_WEIGHTS))
    reference = build_base("mobilenet_v2", 32, path, alpha=0.35).get_weights()
    first = build_base("mobilenet_v2", 32, path, alpha=0.35, snapshot_dir=tmp_path)
    snapshots = list((tmp_path / "weights").glob("*.npz"))
    assert len(snapshots) == 1
    second = build_base("mobilenet_v2", 32, path, alpha=0.35, snapshot_dir=tmp_path)
    for built in (first, second):
        assert all(np.array_equal(a, b) for a, b in zip(built.get_weights(), reference))
    # A snapshot cut short (a crash while copying, a full disk) is passed over, not trusted.
    snapshots[0].write_bytes(snapshots[0].read_bytes()[:1000])
    third = build_base("mobilenet_v2", 32, path, alpha=0.35, snapshot_dir=tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(third.get_weights(), reference))
    # Another width has other weights: it never takes this snapshot, and a file that does
    # not fit is still refused with the sentence.
    with pytest.raises(ValueError, match=r"does not fit mobilenet_v2 \(alpha 1.0\)"):
        build_base("mobilenet_v2", 32, path, alpha=1.0, snapshot_dir=tmp_path)


def test_offline_imagenet_names_the_file_and_where_to_put_it(monkeypatch):
    expected = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    if os.path.exists(os.path.join(keras_models_folder(), expected)):
        pytest.skip(f"{expected} is already in the Keras cache, so nothing is downloaded")
    # A proxy that refuses connections: the download fails at once, with or without network.
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    with pytest.raises(ValueError) as info:
        build_base("mobilenet_v2", 96, "imagenet", alpha=0.35)
    message = str(info.value)
    assert expected in message and keras_models_folder() in message
    assert "--weights /path/to/file.h5" in message and len(message.splitlines()) == 1


@pytest.mark.parametrize("weights,alpha,needle", [
    ("/no/such/file.h5", None, "neither 'imagenet', 'none' nor an existing file"),
    ("none", 0.6, "expected one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4"),
])
def test_bad_weights_and_alpha_are_refused(weights, alpha, needle):
    with pytest.raises(ValueError, match=needle):
        BaseChoice("mobilenet_v2", 32, weights, alpha=alpha)


def test_alpha_applies_to_mobilenet_only():
    with pytest.raises(ValueError, match="applies to mobilenet_v2 only"):
        BaseChoice("resnet50", 32, "none", alpha=0.5)


def test_fusion_names_sizes_and_weights():
    assert fusion_bases("resnet50+xception+inception_v3") == ["resnet50", "xception",
                                                              "inception_v3"]
    assert fusion_sizes(["resnet50", "xception"]) == {"resnet50": 224, "xception": 299}
    assert fusion_sizes(["mobilenet_v2", "inception_v3"], 96) == {"mobilenet_v2": 72,
                                                                  "inception_v3": 96}
    spec = model_spec("mobilenet_v2+xception")
    assert spec.modes == ("fusion",) and spec.default_image_size == 299
    assert spec.min_image_size == 71
    with pytest.raises(ValueError, match="twice"):
        fusion_bases("resnet50+resnet50")
    with pytest.raises(ValueError, match="Unknown backbone 'resnet5'"):
        fusion_bases("resnet5+xception")
    sources = parse_weights("mobilenet_v2=none,xception=imagenet", ["mobilenet_v2", "xception"])
    assert sources["mobilenet_v2"].kind == "none" and sources["xception"].kind == "imagenet"
    with pytest.raises(ValueError, match="name the base it belongs to"):
        parse_weights(str(shared_path(*SHARED_WEIGHTS)), ["mobilenet_v2", "xception"])


def test_fusion_model_resizes_to_each_base_and_names_them_for_heatmaps(tmp_path):
    choices = [BaseChoice("efficientnet_b0", 64, "none", seed=1),
               BaseChoice("mobilenet_v2", 48, "none", alpha=0.35, seed=1)]
    network = build_network(choices, 2, input_size=64)
    model = network.model
    assert model.input_shape == (None, 64, 64, 3) and model.output_shape == (None, 1)
    assert model.get_layer("mobilenet_v2_resize").output.shape[1:3] == (48, 48)
    assert "efficientnet_b0_resize" not in [layer.name for layer in model.layers]
    assert network.extractor.output.shape[-1] == 1280 + 1280
    model.save(tmp_path / "fusion.keras")
    loaded = keras.models.load_model(tmp_path / "fusion.keras", safe_mode=True, compile=False)
    x = np.random.default_rng(2).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    assert np.allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), atol=1e-6)
    explainer = HeatmapExplainer(loaded, feature_layer="mobilenet_v2")  # not the first base
    assert explainer.method == "gradcam" and explainer.feature_name == "mobilenet_v2"
    assert explainer.explain(x[:1]).shape == (2, 2)


def test_random_bases_depend_on_their_seed_only():
    first = build_network([BaseChoice("mobilenet_v2", 32, "none", alpha=0.35, seed=5)], 2)
    keras.utils.set_random_seed(99)  # what was drawn before does not matter
    second = build_network([BaseChoice("mobilenet_v2", 32, "none", alpha=0.35, seed=5)], 2)
    kernel = [n.bases["mobilenet_v2"].get_layer("Conv1").get_weights()[0] for n in (first, second)]
    assert np.array_equal(*kernel)


def test_unfreezing_the_top_block_or_n_layers_keeps_batch_normalization_frozen():
    base = build_base("mobilenet_v2", 32, "none", alpha=0.35)
    names = unfreeze_top(base, "mobilenet_v2")
    assert names == ["block_16_expand", "block_16_depthwise", "block_16_project", "Conv_1"]
    assert base.get_layer("block_16_expand").trainable
    assert not base.get_layer("block_15_project").trainable
    assert not base.get_layer("Conv_1_bn").trainable
    assert not base.get_layer("block_16_expand_BN").trainable
    assert unfreeze_top(base, "mobilenet_v2", 2) == ["block_16_project", "Conv_1"]
    assert not base.get_layer("block_16_expand").trainable
    vgg = build_base("vgg16", 32, "none")
    assert unfreeze_top(vgg, "vgg16") == ["block5_conv1", "block5_conv2", "block5_conv3"]
    with pytest.raises(ValueError, match="at least 1"):
        unfreeze_top(vgg, "vgg16", 0)
    assert get_backbone("inception_v3").top_block == "after:mixed8"


def test_efficientnet_with_a_weights_file_gets_the_imagenet_input_scaling_keras_adds():
    """Keras adds Rescaling(1/sqrt(stddev)) after EfficientNet's Normalization only when it
    downloads the weights; for a weights file the same step comes first, as an affine layer."""
    from core.models.weights import WeightsSource
    from core.models.preprocessing import preprocessing_layer

    mean, stddev = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    base = build_base("efficientnet_b0", 32, "none")
    normalization = next(layer for layer in base.layers
                         if isinstance(layer, keras.layers.Normalization))
    normalization.set_weights([mean, stddev ** 2, np.array(1.0)][:len(normalization.weights)])
    normalization.finalize_state()  # as loading weights does
    stem = keras.Model(base.inputs, normalization.output)
    x = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    correction = preprocessing_layer("efficientnet_b0", WeightsSource("file", "weights.h5"))
    expected = (x / 255 - mean) / stddev / np.sqrt(stddev)  # what Keras's ImageNet model feeds on
    assert np.allclose(stem.predict_on_batch(correction(x)), expected, atol=1e-4)
    assert preprocessing_layer("efficientnet_b0", WeightsSource("none")) is None
