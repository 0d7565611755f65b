"""Heatmaps: CAM / Grad-CAM on tiny trained models and nested backbones, and the pictures."""
import functools

import keras
import numpy as np
import pytest
from keras import layers

from core.inference.heatmaps import HeatmapExplainer, annotate, colorize, overlay

SIZE = 32
SQUARE = 8


def make_squares(num_images, seed):
    """Dim noise; class 1 images also hold a bright square somewhere in one random quadrant.

    Returns float32 images in [0, 255], labels, and a boolean mask of each square.
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 90, (num_images, SIZE, SIZE, 3)).astype(np.float32)
    labels = rng.integers(0, 2, num_images)
    masks = np.zeros((num_images, SIZE, SIZE), bool)
    half = SIZE // 2
    for i in np.flatnonzero(labels):
        top = rng.integers(0, 2) * half + rng.integers(0, half - SQUARE + 1)
        left = rng.integers(0, 2) * half + rng.integers(0, half - SQUARE + 1)
        masks[i, top:top + SQUARE, left:left + SQUARE] = True
    images[masks] = 255.0
    return images, labels, masks


def train(model):
    keras.utils.set_random_seed(0)
    images, labels, _ = make_squares(512, seed=1)
    loss = "binary_crossentropy" if model.output_shape[-1] == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
    model.fit(images, labels, batch_size=32, epochs=6, verbose=0)
    test_images, test_labels, test_masks = make_squares(64, seed=2)
    _, accuracy = model.evaluate(test_images, test_labels, verbose=0)
    assert accuracy > 0.9, f"the tiny model did not learn the squares (accuracy {accuracy:.2f})"
    return test_images, test_labels, test_masks


@pytest.fixture(scope="module")
def gap_model():
    """Conv stack -> GlobalAveragePooling2D -> Dense(1, sigmoid), trained on the squares."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((SIZE, SIZE, 3)), layers.Rescaling(1 / 255),
        layers.Conv2D(8, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(), layers.Dropout(0.1), layers.Dense(1, activation="sigmoid"),
    ])
    return model, train(model)


@pytest.fixture(scope="module")
def flatten_model():
    """Conv stack -> Flatten -> Dense -> Dense(2, softmax), trained on the squares."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((SIZE, SIZE, 3)), layers.Rescaling(1 / 255),
        layers.Conv2D(8, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(16, activation="relu"), layers.Dense(2, activation="softmax"),
    ])
    return model, train(model)


def heat_inside_and_outside(explainer, images, masks, class_index=1):
    inside, outside = [], []
    for image, mask in zip(images, masks):
        heatmap = explainer.explain_at_size(image[None], class_index)
        inside.append(heatmap[mask].mean())
        outside.append(heatmap[~mask].mean())
    return np.array(inside), np.array(outside)


def test_cam_is_hottest_on_the_bright_square(gap_model):
    model, (images, labels, masks) = gap_model
    explainer = HeatmapExplainer(model)
    assert explainer.method == "cam"
    positives = labels == 1
    inside, outside = heat_inside_and_outside(explainer, images[positives], masks[positives])
    assert np.mean(inside > 2 * outside) > 0.9, (inside, outside)


def test_cam_of_the_two_sigmoid_classes_differ(gap_model):
    model, (images, labels, masks) = gap_model
    explainer = HeatmapExplainer(model)
    i = int(np.flatnonzero(labels == 1)[0])
    for_square = explainer.explain(images[i][None], 1)
    against_square = explainer.explain(images[i][None], 0)
    assert not np.allclose(for_square, against_square)
    # The unit's negation explains class 0: the square argues against it.
    assert explainer.explain_at_size(images[i][None], 0)[masks[i]].mean() < \
        explainer.explain_at_size(images[i][None], 1)[masks[i]].mean()
    # No class given: the predicted one (the square's class here).
    np.testing.assert_allclose(explainer.explain(images[i][None]), for_square)


def test_gradcam_on_a_flatten_head_gives_an_image_sized_map(flatten_model):
    model, (images, labels, masks) = flatten_model
    explainer = HeatmapExplainer(model)
    assert explainer.method == "gradcam"
    assert explainer.feature_name == model.layers[3].name  # The last Conv2D (with its ReLU).
    i = int(np.flatnonzero(labels == 1)[0])
    heatmap = explainer.explain_at_size(images[i][None], 1)
    assert heatmap.shape == (SIZE, SIZE) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    assert heatmap.std() > 0
    positives = labels == 1
    inside, outside = heat_inside_and_outside(explainer, images[positives], masks[positives])
    assert np.mean(inside > 2 * outside) > 0.9, (inside, outside)


def test_cam_equals_gradcam_on_a_gap_head(gap_model):
    """For GAP + Dense the class score's gradient is the Dense weight: both methods agree."""
    model, (images, _, _) = gap_model
    cam = HeatmapExplainer(model)
    gradcam = HeatmapExplainer(model, method="gradcam")
    assert gradcam.method == "gradcam"
    for class_index in (0, 1):
        np.testing.assert_allclose(cam.explain(images[:1], class_index),
                                   gradcam.explain(images[:1], class_index), atol=1e-5)


def test_a_saved_and_loaded_model_explains_the_same(gap_model, tmp_path):
    model, (images, _, _) = gap_model
    model.save(tmp_path / "model.keras")
    loaded = HeatmapExplainer(keras.models.load_model(tmp_path / "model.keras"))
    assert loaded.method == "cam"
    np.testing.assert_allclose(loaded.explain(images[:1], 1),
                               HeatmapExplainer(model).explain(images[:1], 1), atol=1e-6)


def test_explainer_builds_its_model_once_and_does_not_retrace(gap_model):
    model, (images, _, _) = gap_model
    explainer = HeatmapExplainer(model)
    feature_model = explainer.feature_model
    explainer.explain(images[:1], 0)
    explainer.explain(images[1:2], 1)
    explainer.explain(images[2])  # (H, W, 3) works too.
    assert explainer.feature_model is feature_model
    assert explainer._heatmap_function.experimental_get_tracing_count() == 1


# --- method detection on the model shapes the app builds ---------------------------------

BACKBONE_SIZE = 64


def mobilenet(name="mobilenet", pooling=None):
    return keras.applications.MobileNetV2(
        input_shape=(BACKBONE_SIZE, BACKBONE_SIZE, 3), alpha=0.35, include_top=False,
        weights=None, pooling=pooling, name=name)


def transfer_model(head, num_backbones=1, pooling=None):
    """Input -> Rescaling -> nested MobileNetV2 backbone(s) -> head."""
    inputs = keras.Input((BACKBONE_SIZE, BACKBONE_SIZE, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    features = [mobilenet(f"backbone{i + 1}", pooling)(x) for i in range(num_backbones)]
    return keras.Model(inputs, head(features))


def gap_head(features):
    x = layers.Dropout(0.2)(layers.GlobalAveragePooling2D()(features[0]))
    return layers.Dense(1, activation="sigmoid")(x)


def flatten_head(features):
    return layers.Dense(3, activation="softmax")(layers.Flatten()(features[0]))


def fusion_head(features):
    if len(features[0].shape) == 4:
        features = [layers.GlobalAveragePooling2D()(f) for f in features]
    x = layers.Dropout(0.2)(layers.Concatenate()(features))
    return layers.Dense(3, activation="softmax")(x)


def scratch_cnn(head_layers):
    return keras.Sequential([
        keras.Input((BACKBONE_SIZE, BACKBONE_SIZE, 3)), layers.Rescaling(1 / 255),
        layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(8, 3, activation="relu", name="last_conv"), *head_layers])


MODELS = {
    "a-scratch-flatten": lambda: scratch_cnn([layers.MaxPooling2D(), layers.Flatten(),
                                              layers.Dense(8), layers.Dense(1, activation="sigmoid")]),
    "b-scratch-gap": lambda: scratch_cnn([layers.GlobalAveragePooling2D(), layers.Dropout(0.1),
                                          layers.Dense(3, activation="softmax")]),
    "c-nested-gap": lambda: transfer_model(gap_head),
    "c-nested-flatten": lambda: transfer_model(flatten_head),
    "d-fusion": lambda: transfer_model(fusion_head, num_backbones=2),
    "d-fusion-pooled-inside": lambda: transfer_model(fusion_head, num_backbones=2, pooling="avg"),
}


@pytest.fixture(scope="module")
def models():
    """MODELS[name](), built once for this module (MobileNetV2 0.35 takes a second to build)."""
    keras.utils.set_random_seed(0)
    return functools.cache(lambda name: MODELS[name]())


@pytest.mark.parametrize("name, method, feature_name, map_size", [
    ("a-scratch-flatten", "gradcam", "last_conv", 29),
    ("b-scratch-gap", "cam", "last_conv", 29),
    ("c-nested-gap", "cam", "backbone1", 2),
    ("c-nested-flatten", "gradcam", "backbone1", 2),
    ("d-fusion", "gradcam", "backbone1", 2),
    ("d-fusion-pooled-inside", "gradcam", "backbone1/out_relu", 2),
])
def test_method_detection(models, name, method, feature_name, map_size):
    explainer = HeatmapExplainer(models(name))
    assert (explainer.method, explainer.feature_name) == (method, feature_name)
    # The auxiliary model reaches the map from the outer input (checked without running it:
    # the tests below run the nested cases against hand-made computations).
    assert explainer.feature_model.output_shape[0][1:3] == (map_size, map_size)
    if not name.startswith(("c-", "d-")):
        image = np.random.default_rng(0).uniform(0, 255, (1, BACKBONE_SIZE, BACKBONE_SIZE, 3))
        for class_index in range(explainer.num_classes):
            heatmap = explainer.explain(image, class_index)
            assert heatmap.shape == (map_size, map_size) and heatmap.dtype == np.float32
            assert 0 <= heatmap.min() <= heatmap.max() <= 1


def expected_map(features, weights):
    """ReLU of the weighted feature channels, scaled to a maximum of 1 (all zeros stay 0)."""
    heat = np.maximum(features @ weights, 0)
    return heat / heat.max() if heat.max() > 0 else heat


def backbone_features(model, name, image):
    return model.get_layer(name)(image / 127.5 - 1, training=False).numpy()[0]


def random_image(seed):
    return np.random.default_rng(seed).uniform(0, 255, (1, BACKBONE_SIZE, BACKBONE_SIZE, 3))


def test_cam_through_a_nested_backbone(models):
    """CAM is the class's Dense weights over the nested backbone's map; class 0 of a sigmoid
    unit uses the negated weights."""
    model = models("c-nested-gap")
    image = random_image(1)
    features = backbone_features(model, "backbone1", image)
    kernel = model.layers[-1].kernel.numpy()[:, 0]
    explainer = HeatmapExplainer(model)
    assert HeatmapExplainer(model, feature_layer="backbone1").method == "cam"
    np.testing.assert_allclose(explainer.explain(image, 1), expected_map(features, kernel),
                               atol=1e-4)
    np.testing.assert_allclose(explainer.explain(image, 0), expected_map(features, -kernel),
                               atol=1e-4)


def test_gradcam_through_a_nested_backbone_with_a_flatten_head(models):
    """Flatten -> Dense: the score's gradient at (i, j, k) is the kernel row of that position,
    so Grad-CAM's channel weights are those rows averaged over the positions."""
    model = models("c-nested-flatten")
    image = random_image(2)
    features = backbone_features(model, "backbone1", image)
    kernel = model.layers[-1].kernel.numpy().reshape(*features.shape, -1)
    explainer = HeatmapExplainer(model)
    for class_index in range(3):
        weights = kernel[..., class_index].mean(axis=(0, 1))
        np.testing.assert_allclose(explainer.explain(image, class_index),
                                   expected_map(features, weights), atol=1e-4)


def test_gradcam_on_the_first_of_fused_backbones(models):
    """concat(GAP(backbone1), GAP(backbone2)) -> Dense: Grad-CAM on backbone1 weighs its
    channels with backbone1's rows of the Dense kernel. feature_layer picks another map."""
    model = models("d-fusion")
    image = random_image(3)
    features = backbone_features(model, "backbone1", image)
    kernel = model.layers[-1].kernel.numpy()[:features.shape[-1]]
    explainer = HeatmapExplainer(model)
    for class_index in range(3):
        np.testing.assert_allclose(explainer.explain(image, class_index),
                                   expected_map(features, kernel[:, class_index]), atol=1e-4)
    assert HeatmapExplainer(model, feature_layer="backbone2").feature_name == "backbone2"
    inside = HeatmapExplainer(model, feature_layer="block_13_expand_relu")
    assert inside.feature_name == "backbone1/block_13_expand_relu"
    assert inside.feature_model.output_shape[0][1:3] == (4, 4)
    with pytest.raises(ValueError, match="try one of: backbone1, backbone2"):
        HeatmapExplainer(model, feature_layer="no_such_layer")


def test_gradcam_reaches_inside_a_backbone_that_pools():
    """Sequential([MobileNetV2(pooling="avg"), Dense]): the map inside the backbone is
    explained, and as GAP + Dense follow it, Grad-CAM equals CAM on that map by hand."""
    keras.utils.set_random_seed(0)
    backbone = mobilenet(pooling="avg")
    model = keras.Sequential([keras.Input((BACKBONE_SIZE, BACKBONE_SIZE, 3)), backbone,
                              layers.Dense(3, activation="softmax")])
    explainer = HeatmapExplainer(model)
    assert (explainer.method, explainer.feature_name) == ("gradcam", "mobilenet/out_relu")
    image = random_image(4) / 127.5 - 1
    inner = keras.Model(backbone.input, backbone.get_layer("out_relu").output)
    features = inner(image, training=False).numpy()[0]
    kernel = model.layers[-1].kernel.numpy()
    for class_index in range(3):
        np.testing.assert_allclose(explainer.explain(image, class_index),
                                   expected_map(features, kernel[:, class_index]), atol=1e-4)


def test_zero_evidence_gives_a_flat_zero_map_not_nan():
    for head_layers in ([layers.GlobalAveragePooling2D(), layers.Dense(2, activation="softmax")],
                        [layers.Flatten(), layers.Dense(2, activation="softmax")]):
        model = scratch_cnn(head_layers)
        dense = model.layers[-1]
        dense.kernel.assign(np.zeros(dense.kernel.shape))
        image = np.full((1, BACKBONE_SIZE, BACKBONE_SIZE, 3), 128, np.float32)
        heatmap = HeatmapExplainer(model).explain(image, 1)
        assert heatmap.shape == (29, 29) and not heatmap.any()


def test_clear_errors():
    model = scratch_cnn([layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    explainer = HeatmapExplainer(model)
    image = np.zeros((1, BACKBONE_SIZE, BACKBONE_SIZE, 3), np.float32)
    with pytest.raises(ValueError, match="class_index=2"):
        explainer.explain(image, 2)
    with pytest.raises(ValueError, match="one image"):
        explainer.explain(np.zeros((2, BACKBONE_SIZE, BACKBONE_SIZE, 3)), 0)
    with pytest.raises(ValueError, match="method='cam'"):
        HeatmapExplainer(model, method="cam")
    with pytest.raises(ValueError, match="no convolutional feature map"):
        HeatmapExplainer(keras.Sequential([keras.Input((8, 8, 3)), layers.Flatten(),
                                           layers.Dense(2, activation="softmax")]))
    with pytest.raises(ValueError, match="built"):
        HeatmapExplainer(keras.Sequential([layers.Conv2D(2, 3)]))


# --- pictures ----------------------------------------------------------------------------

@pytest.fixture
def picture():
    return np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)


def test_overlay_shape_and_opacity_extremes(picture):
    heatmap = np.random.default_rng(1).uniform(0, 1, (7, 9)).astype(np.float32)
    blended = overlay(picture, heatmap)
    assert blended.shape == picture.shape and blended.dtype == np.uint8
    assert not np.array_equal(blended, picture)
    np.testing.assert_array_equal(overlay(picture, heatmap, opacity=0.0), picture)
    np.testing.assert_array_equal(overlay(picture, heatmap, opacity=1.0, threshold=0.0),
                                  colorize(heatmap, (80, 60)))


def test_overlay_threshold_leaves_cold_pixels_untouched(picture):
    heatmap = np.zeros((60, 80), np.float32)
    heatmap[:, 40:] = 1.0
    blended = overlay(picture, heatmap, opacity=0.6, threshold=0.5)
    np.testing.assert_array_equal(blended[:, :40], picture[:, :40])
    assert (blended[:, 40:] != picture[:, 40:]).any(axis=-1).mean() > 0.9


def test_colorize_is_rgb_jet():
    colours = colorize(np.array([[0.0, 1.0]], np.float32), size=(2, 1))
    assert colours.shape == (1, 2, 3) and colours.dtype == np.uint8
    cold, hot = colours[0].astype(int)
    assert cold[2] > 100 and cold[0] == 0  # Blue in RGB order, not BGR.
    assert hot[0] > 100 and hot[2] == 0


def test_annotate_draws_only_in_the_top_left_corner():
    image = np.full((200, 240, 3), 200, np.uint8)
    labelled = annotate(image, "cat", probability=0.9712)
    assert (image == 200).all()  # The original is untouched.
    rows, columns = np.nonzero((labelled != image).any(axis=-1))
    assert rows.min() == 0 and columns.min() == 0
    assert rows.max() < 200 // 4 and columns.max() < 240 * 2 // 3
    bright = labelled[rows, columns].min(axis=-1) > 230  # White text on the dark box.
    assert bright.any() and (labelled[rows, columns].max(axis=-1) < 60).any()
    assert not np.array_equal(labelled, annotate(image, "cat"))  # The probability shows.
