"""Augmentation: Keras 2 ImageDataGenerator meaning on Keras 3 layers, presets, preview, grid."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import shared_path
from core.data.augmentation.presets import PRESETS, load_augmentation
from core.data.augmentation.config import AugmentationConfig
from core.data.augmentation.layers import build_augmenter
from core.data.augmentation.preview import make_grid, preview

HEIGHT, WIDTH = 36, 48


def synthetic_image(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """Colour gradients with an off-centre rectangle and disc, so every transform shows.

    No pixel is darker than 30, so a constant fill of 0 is recognisable.
    """
    rows, columns = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = 30 + 200 * columns / (width - 1)
    image[..., 1] = 30 + 150 * rows / (height - 1)
    image[..., 2] = 60
    image[4:14, 6:22] = (250, 240, 40)
    image[(rows - 24) ** 2 + (columns - 34) ** 2 <= 36] = (40, 40, 220)
    return image


IMAGE = synthetic_image()


def same_tiles(first, second) -> bool:
    return len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second))


def keras2_affine(image, theta=0.0, shift_rows=0.0, shift_columns=0.0, shear=0.0, zoom_rows=1.0,
                  zoom_columns=1.0, flip_rows=False, flip_columns=False, fill_mode="nearest",
                  cval=0.0):
    """Keras 2 `apply_transform` geometry (angles in degrees, shifts in pixels), via scipy.

    A copy of keras_preprocessing's `apply_affine_transform` followed by its flips, except
    that the centre is the true pixel centre (h - 1) / 2; Keras 2 used h / 2 + 0.5.
    """
    ndimage = pytest.importorskip("scipy.ndimage")
    matrix = np.eye(3)
    t = np.deg2rad(theta)
    matrix = matrix @ [[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]
    matrix = matrix @ [[1, 0, shift_rows], [0, 1, shift_columns], [0, 0, 1]]
    s = np.deg2rad(shear)
    matrix = matrix @ [[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]
    matrix = matrix @ [[zoom_rows, 0, 0], [0, zoom_columns, 0], [0, 0, 1]]
    center_row, center_column = (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    matrix = ([[1, 0, center_row], [0, 1, center_column], [0, 0, 1]] @ matrix
              @ [[1, 0, -center_row], [0, 1, -center_column], [0, 0, 1]])
    output = np.stack([ndimage.affine_transform(image[..., c].astype(np.float64), matrix[:2, :2],
                                                matrix[:2, 2], order=1, mode=fill_mode, cval=cval)
                       for c in range(image.shape[2])], axis=-1)
    if flip_columns:
        output = np.flip(output, 1)
    if flip_rows:
        output = np.flip(output, 0)
    return output


# --------------------------------------------------------------------------- config


def test_default_config_changes_nothing_and_keeps_rescale():
    config = AugmentationConfig()
    assert config.is_identity()
    assert config.rescale == pytest.approx(1 / 255)
    assert build_augmenter(config) is None


def test_keras2_blog_kwargs_load_as_is_and_equal_the_keras_blog_preset():
    blog = dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, rescale=1. / 255,
                shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")
    config = AugmentationConfig.from_dict(blog)
    assert config == PRESETS["keras_blog"]
    assert config.zoom_bounds == pytest.approx((0.8, 1.2))
    assert config.shear_range == 0.2  # degrees, as Keras 2 read it


def test_round_trip_through_dict_and_json():
    config = AugmentationConfig(rotation_range=12.5, width_shift_range=0.1, height_shift_range=0.15,
                                shear_range=8, zoom_range=[0.7, 1.1], horizontal_flip=True,
                                vertical_flip=True, fill_mode="constant", cval=128,
                                brightness_range=[0.6, 1.4], contrast_range=0.25, rescale=0.5)
    data = config.to_dict()
    assert set(data) == {f for f in AugmentationConfig.__dataclass_fields__}
    assert AugmentationConfig.from_dict(data) == config
    assert AugmentationConfig.from_dict(json.loads(json.dumps(data))) == config
    assert config.zoom_range == (0.7, 1.1) and data["zoom_range"] == [0.7, 1.1]


def test_unknown_keys_are_rejected_by_name():
    with pytest.raises(ValueError, match="rotaton_range, sparkle"):
        AugmentationConfig.from_dict({"rotation_range": 10, "rotaton_range": 5, "sparkle": True})


@pytest.mark.parametrize("key, hint", [("channel_shift_range", "not supported"),
                                       ("zca_whitening", "not supported"),
                                       ("validation_split", "val_split")])
def test_unsupported_keras2_options_are_explained(key, hint):
    with pytest.raises(ValueError, match=key) as caught:
        AugmentationConfig.from_dict({"rotation_range": 10, key: 0.0})
    assert hint in str(caught.value)


@pytest.mark.parametrize("name, value", [
    ("rotation_range", -5), ("rotation_range", 200), ("rotation_range", "40"),
    ("width_shift_range", 1.5), ("width_shift_range", 10), ("height_shift_range", -0.1),
    ("shear_range", -1), ("shear_range", 90), ("zoom_range", 1.0), ("zoom_range", (0, 1)),
    ("zoom_range", (1.2, 0.8)), ("zoom_range", (0.5, 2.5)), ("zoom_range", (0.5,)),
    ("fill_mode", "mirror"), ("cval", 300), ("brightness_range", (0.5,)),
    ("brightness_range", (1.2, 0.8)), ("brightness_range", 1.2), ("contrast_range", 2),
    ("horizontal_flip", "yes"), ("vertical_flip", 1), ("rescale", -1), ("rotation_range", True),
    ("rotation_range", float("nan")),
])
def test_bad_values_raise_value_error_naming_the_setting(name, value):
    with pytest.raises(ValueError, match=f"Received {name}="):
        AugmentationConfig(**{name: value})


def test_error_message_says_received_and_expected():
    with pytest.raises(ValueError) as caught:
        AugmentationConfig(rotation_range=-5)
    assert str(caught.value) == ("Received rotation_range=-5; expected a number of degrees "
                                 "between 0 and 180.")
    with pytest.raises(ValueError, match="pixels"):
        AugmentationConfig(width_shift_range=16)


def test_rescale_none_means_no_rescaling_like_keras2():
    assert AugmentationConfig(rescale=None).rescale == 1.0
    assert AugmentationConfig(rescale=0).rescale == 1.0


def test_presets_load_as_independent_copies():
    assert set(PRESETS) == {"none", "light", "keras_blog", "strong"}
    for name, preset in PRESETS.items():
        loaded = load_augmentation(name)
        assert loaded == preset and loaded is not preset
        assert loaded.is_identity() == (name == "none")
    # "default" was the Keras-blog preset's name while it was the default: old scripts work.
    assert load_augmentation(" Default ") == PRESETS["keras_blog"]
    assert load_augmentation(None) == PRESETS["none"]
    assert load_augmentation({"rotation_range": 5}).rotation_range == 5
    assert load_augmentation(PRESETS["light"]) == PRESETS["light"]


def test_load_from_json_file(tmp_path):
    path = tmp_path / "augment.json"
    wanted = AugmentationConfig(rotation_range=15, vertical_flip=True, brightness_range=(0.9, 1.1))
    path.write_text(json.dumps(wanted.to_dict()))
    assert load_augmentation(str(path)) == wanted
    assert load_augmentation(path) == wanted

    path.write_text("{not json")
    with pytest.raises(ValueError, match="augment.json"):
        load_augmentation(path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON list"):
        load_augmentation(path)
    path.write_text(json.dumps({"rotation_range": 500}))
    with pytest.raises(ValueError, match="augment.json.*rotation_range=500"):
        load_augmentation(path)


@pytest.mark.parametrize("spec", ["fancy", "missing.json", 42])
def test_load_rejects_what_it_cannot_read(spec):
    with pytest.raises(ValueError, match="preset"):
        load_augmentation(spec)


# --------------------------------------------------------------------------- semantics


def test_none_preset_is_identity():
    assert build_augmenter("none") is None
    tiles = preview(IMAGE, "none", n=3)
    assert len(tiles) == 3 and all(np.array_equal(t, IMAGE) for t in tiles)
    assert tiles[0] is not IMAGE


@pytest.mark.parametrize("settings", [
    {"rotation_range": 30}, {"width_shift_range": 0.2}, {"height_shift_range": 0.2},
    {"shear_range": 20}, {"zoom_range": 0.3}, {"horizontal_flip": True}, {"vertical_flip": True},
    {"brightness_range": (0.5, 0.8)}, {"contrast_range": 0.5},
], ids=lambda settings: next(iter(settings)))
def test_each_setting_alone_changes_the_image(settings):
    tiles = preview(IMAGE, AugmentationConfig(**settings), n=6, seed=0)
    assert any(not np.array_equal(t, IMAGE) for t in tiles)
    if not any(key.endswith("flip") for key in settings):
        # Continuous settings draw a different transform for every tile.
        assert len({t.tobytes() for t in tiles}) == 6


def test_flips_are_exact_and_independent_per_axis():
    horizontal = preview(IMAGE, AugmentationConfig(horizontal_flip=True), n=16, seed=1)
    kinds = {("same" if np.array_equal(t, IMAGE) else
              "flipped" if np.array_equal(t, np.flip(IMAGE, 1)) else "other") for t in horizontal}
    assert kinds == {"same", "flipped"}
    vertical = preview(IMAGE, AugmentationConfig(vertical_flip=True), n=16, seed=1)
    kinds = {("same" if np.array_equal(t, IMAGE) else
              "flipped" if np.array_equal(t, np.flip(IMAGE, 0)) else "other") for t in vertical}
    assert kinds == {"same", "flipped"}
    # Keras 2 flips each axis on its own coin; all four outcomes must appear.
    both = preview(IMAGE, AugmentationConfig(horizontal_flip=True, vertical_flip=True), n=32, seed=1)
    outcomes = {flip: np.flip(IMAGE, axes) if axes else IMAGE for flip, axes in
                [("none", ()), ("h", (1,)), ("v", (0,)), ("hv", (0, 1))]}
    seen = {next(k for k, v in outcomes.items() if np.array_equal(t, v)) for t in both}
    assert seen == {"none", "h", "v", "hv"}


@pytest.mark.parametrize("fill_mode, scipy_mode", [("nearest", "nearest"), ("reflect", "reflect"),
                                                    ("constant", "grid-constant")])
def test_geometry_matches_keras2_apply_affine_transform(fill_mode, scipy_mode):
    config = AugmentationConfig(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
                                shear_range=25, zoom_range=(0.6, 1.4), horizontal_flip=True,
                                vertical_flip=True, fill_mode=fill_mode, cval=17)
    layer = build_augmenter(config, seed=3).layers[0]
    batch = np.repeat(IMAGE[np.newaxis].astype(np.float32), 8, axis=0)
    transformation = layer.get_random_transformation(batch)
    output = np.asarray(layer.transform_images(batch, transformation))
    flips = set(zip(np.asarray(transformation["flip_rows"]),
                    np.asarray(transformation["flip_columns"])))
    assert len(flips) >= 3  # the batch covers flipped and unflipped axes
    for index in range(len(batch)):
        p = {k: float(np.asarray(v)[index]) for k, v in transformation.items() if k != "matrix"}
        expected = keras2_affine(IMAGE, np.degrees(p["theta"]), p["shift_rows"], p["shift_columns"],
                                 np.degrees(p["shear"]), p["zoom_rows"], p["zoom_columns"],
                                 p["flip_rows"], p["flip_columns"], scipy_mode, 17.0)
        np.testing.assert_allclose(output[index], expected, atol=0.05)


def test_sampled_parameters_follow_keras2_ranges():
    config = AugmentationConfig(rotation_range=40, width_shift_range=0.2, height_shift_range=0.1,
                                shear_range=10, zoom_range=0.2)
    layer = build_augmenter(config, seed=0).layers[0]
    p = {k: np.asarray(v) for k, v in
         layer.get_random_transformation(np.zeros((400, HEIGHT, WIDTH, 3), np.float32)).items()}
    # Rotation and shear are in degrees (Keras 3 RandomRotation would read 40 as 40 turns).
    for name, limit in [("theta", 40), ("shear", 10)]:
        degrees = np.degrees(p[name])
        assert np.abs(degrees).max() <= limit + 1e-3 and np.abs(degrees).max() > 0.9 * limit
        assert degrees.min() < 0 < degrees.max()
    # Shifts are fractions of the height and width.
    assert np.abs(p["shift_rows"]).max() <= 0.1 * HEIGHT + 1e-3
    assert np.abs(p["shift_rows"]).max() > 0.09 * HEIGHT
    assert np.abs(p["shift_columns"]).max() <= 0.2 * WIDTH + 1e-3
    assert np.abs(p["shift_columns"]).max() > 0.18 * WIDTH
    # zoom_range=0.2 means scales in [0.8, 1.2], drawn separately per axis as in Keras 2.
    for name in ("zoom_rows", "zoom_columns"):
        assert 0.8 - 1e-6 <= p[name].min() < 0.82 and 1.18 < p[name].max() <= 1.2 + 1e-6
    assert not np.allclose(p["zoom_rows"], p["zoom_columns"])
    assert not p["flip_rows"].any() and not p["flip_columns"].any()  # flips are off


def test_shear_turns_about_the_centre():
    size = 33
    image = synthetic_image(size, size)
    image[size // 2, size // 2] = (255, 0, 255)
    tiles = preview(image, AugmentationConfig(shear_range=40), n=8, seed=2)
    assert all(not np.array_equal(t, image) for t in tiles)
    for tile in tiles:
        # Keras 3 RandomShear shears about the top-left corner and would move the centre.
        assert np.array_equal(tile[size // 2, size // 2], image[size // 2, size // 2])
        # Keras 2 shear keeps vertical lines vertical: the centre column is untouched.
        np.testing.assert_allclose(tile[:, size // 2], image[:, size // 2], atol=1)


def test_zoom_range_below_one_zooms_in_like_keras2():
    image = np.full((41, 41, 3), 40, np.uint8)
    image[16:25, 16:25] = 250  # a 9 x 9 square at the centre
    bright = (image[..., 0] > 145).sum()
    zoom_in = preview(image, AugmentationConfig(zoom_range=(0.5, 0.5)), n=2, seed=0)
    zoom_out = preview(image, AugmentationConfig(zoom_range=(2.0, 2.0)), n=2, seed=0)
    for tile in zoom_in:  # 2x magnified: about 4x the area
        assert 3.2 < (tile[..., 0] > 145).sum() / bright < 4.8
        np.testing.assert_allclose(tile, keras2_affine(image, zoom_rows=0.5, zoom_columns=0.5),
                                   atol=1)
    for tile in zoom_out:  # half size: about a quarter of the area
        assert 0.15 < (tile[..., 0] > 145).sum() / bright < 0.4


def test_brightness_is_multiplicative_within_range():
    tiles = preview(IMAGE, AugmentationConfig(brightness_range=(0.5, 0.7)), n=8, seed=0)
    original = IMAGE.astype(np.float64)
    factors = []
    for tile in tiles:
        ratio = tile / original
        # One factor per image: dark and bright pixels scale alike (an additive shift would not).
        assert ratio.max() - ratio.min() < 0.05
        assert 0.5 - 0.02 <= tile.mean() / original.mean() <= 0.7 + 0.02
        factors.append(ratio.mean())
    assert max(factors) - min(factors) > 0.05  # each tile has its own factor
    bright = preview(IMAGE, AugmentationConfig(brightness_range=(1.8, 2.0)), n=2, seed=0)
    assert all(t.max() == 255 for t in bright)  # clipped, not wrapped


def test_contrast_scales_spread_about_the_mean():
    tiles = preview(IMAGE, AugmentationConfig(contrast_range=0.5), n=8, seed=0)
    ratios = [tile.astype(float).std() / IMAGE.std() for tile in tiles]
    assert all(0.45 < r < 1.55 for r in ratios) and max(ratios) - min(ratios) > 0.1


def test_fill_modes_fill_borders_differently():
    tiles = {mode: preview(IMAGE, AugmentationConfig(width_shift_range=0.45, fill_mode=mode,
                                                     cval=0), n=4, seed=3)
             for mode in ("nearest", "constant", "reflect", "wrap")}
    modes = list(tiles)
    for i, first in enumerate(modes):
        for second in modes[i + 1:]:
            assert not same_tiles(tiles[first], tiles[second]), (first, second)
    assert max((t == 0).all(axis=2).mean() for t in tiles["constant"]) > 0.1
    assert all(not (t == 0).all(axis=2).any() for t in tiles["nearest"])


# --------------------------------------------------------------------------- augmenter


def test_augmenter_works_eagerly_on_numpy_and_tensors_and_clips():
    import tensorflow as tf

    config = AugmentationConfig(rotation_range=30, zoom_range=0.3, brightness_range=(1.5, 2.0),
                                contrast_range=0.5, horizontal_flip=True)
    augment = build_augmenter(config, seed=0)
    batch = np.repeat(IMAGE[np.newaxis].astype(np.float32), 3, axis=0)
    for images in (batch, tf.constant(batch), batch[0], tf.constant(batch[0])):
        output = np.asarray(augment(images))
        assert output.shape == np.shape(images) and output.dtype == np.float32
        assert output.min() >= 0 and output.max() <= 255
    np.testing.assert_array_equal(np.asarray(augment(batch, training=False)), batch)
    rotate = build_augmenter(AugmentationConfig(rotation_range=10), seed=0)
    assert np.asarray(rotate(batch * 1.3 - 60)).min() == 0  # always back in [0, 255]
    assert np.asarray(rotate(batch * 1.3 - 60)).max() == 255


def test_same_seed_builds_the_same_augmentation():
    batch = np.repeat(IMAGE[np.newaxis].astype(np.float32), 4, axis=0)
    first = np.asarray(build_augmenter("strong", seed=5)(batch))
    again = np.asarray(build_augmenter("strong", seed=5)(batch))
    other = np.asarray(build_augmenter("strong", seed=6)(batch))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("config", [
    AugmentationConfig(rotation_range=30), AugmentationConfig(brightness_range=(0.5, 1.5)),
    AugmentationConfig(contrast_range=0.5), PRESETS["strong"],
], ids=["geometry", "brightness", "contrast", "strong"])
def test_tf_data_map_draws_new_transforms_per_image_batch_and_epoch(config):
    import tensorflow as tf

    augment = build_augmenter(config, seed=1)
    batch = np.repeat(IMAGE[np.newaxis].astype(np.float32), 4, axis=0)
    dataset = tf.data.Dataset.from_tensors(batch).repeat(3).map(augment)
    epochs = [np.concatenate([b.numpy() for b in dataset]) for _ in range(2)]
    for images in epochs:
        assert images.shape == (12, HEIGHT, WIDTH, 3) and images.dtype == np.float32
        assert images.min() >= 0 and images.max() <= 255
        flat = images.reshape(len(images), -1)
        assert len({row.tobytes() for row in flat}) == len(flat)  # traced once, yet random
    assert not np.array_equal(epochs[0], epochs[1])
    single = tf.data.Dataset.from_tensor_slices(batch).map(augment).batch(4)
    images = next(iter(single)).numpy()
    assert len({image.tobytes() for image in images}) == 4


# --------------------------------------------------------------------------- preview and grid


def test_preview_is_deterministic_per_seed():
    first = preview(IMAGE, "strong", n=6, seed=1)
    other = preview(IMAGE, "strong", n=6, seed=2)
    again = preview(IMAGE, "strong", n=6, seed=1)
    assert same_tiles(first, again)
    assert not same_tiles(first, other)


def test_preview_follows_config_changes():
    config = AugmentationConfig(rotation_range=5)
    before = preview(IMAGE, config, n=4)
    config.rotation_range = 90
    config.validate()
    assert not same_tiles(before, preview(IMAGE, config, n=4))


def test_preview_returns_n_uint8_tiles_of_the_requested_size():
    tiles = preview(IMAGE, "default", n=5, seed=0, size=24)
    assert len(tiles) == 5
    assert all(t.dtype == np.uint8 and t.shape == (18, 24, 3) for t in tiles)
    assert all(t.shape == (72, 96, 3) for t in preview(IMAGE, "none", n=2, size=96))


@pytest.mark.parametrize("image, n, size", [
    (IMAGE.astype(np.float32), 1, None), (IMAGE[..., 0], 1, None), (IMAGE, 0, None), (IMAGE, 2, 0),
])
def test_preview_rejects_bad_arguments(image, n, size):
    with pytest.raises(ValueError, match="Received"):
        preview(image, "default", n=n, size=size)


def test_preview_on_a_real_photo():
    from PIL import Image

    folder = shared_path("datasets", "cats_dogs", "train", "cats")
    photo_path = sorted(folder.glob("*.jpg"))[0]
    with Image.open(photo_path) as photo:
        image = np.asarray(photo.convert("RGB"))
    tiles = preview(image, "default", n=9, seed=0, size=96)
    assert len(tiles) == 9 and max(tiles[0].shape[:2]) == 96
    assert len({t.tobytes() for t in tiles}) == 9
    grid = make_grid(tiles)
    assert grid.dtype == np.uint8 and grid.shape[2] == 3


def test_make_grid_layout():
    tiles = [np.full((10, 12, 3), 10 * i, np.uint8) for i in range(5)]
    grid = make_grid(tiles, pad=4)
    assert grid.shape == (2 * 10 + 3 * 4, 3 * 12 + 4 * 4, 3)
    assert (grid[:4] == 255).all() and (grid[:, :4] == 255).all()
    np.testing.assert_array_equal(grid[4:14, 4:16], tiles[0])
    np.testing.assert_array_equal(grid[18:28, 20:32], tiles[4])
    assert (grid[18:28, 36:48] == 255).all()  # empty last cell
    assert make_grid(tiles, columns=5, pad=0, background=0).shape == (10, 60, 3)


def test_make_grid_centres_mixed_sizes_and_grey_images():
    grid = make_grid([np.zeros((10, 10), np.uint8), np.zeros((6, 4, 3), np.uint8)], columns=2,
                     pad=2, background=(1, 2, 3))
    assert grid.shape == (14, 26, 3)
    assert (grid[4:10, 17:21] == 0).all() and (grid[2:4, 14:24] == (1, 2, 3)).all()
    with pytest.raises(ValueError, match="no images"):
        make_grid([])
