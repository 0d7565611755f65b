"""The recommended recipe: augmentation decided from the pictures (mirroring only where it
keeps the class), the network chosen from the weights on this computer, and every choice
recorded with its reason."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.cli import main
from core.data.augmentation.decide import choose_augmentation
from core.data.scanning import scan_dataset
from core.models.weights_store import (PretrainedWeights, available_weights, identify_weights,
                                       remember_weights)
from core.training.config import TrainingConfig
from core.training.request import build_request

WEIGHTS = ("weights", "mobilenet_v2_0.35_imagenet_notop.weights.h5")


def _canvas(rng, size=48):
    """A cluttered background: a fixed picture a quick classifier cannot use by itself."""
    background = rng.integers(90, 160, 3)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in background))
    return image, ImageDraw.Draw(image)


def arrow(direction: str, rng, size=48) -> Image.Image:
    """An arrow pointing left or right, at a random place, length and thickness: mirroring
    turns one class into the other."""
    image, draw = _canvas(rng, size)
    y = int(rng.integers(14, size - 14))
    left, right = int(rng.integers(4, 12)), int(rng.integers(size - 12, size - 4))
    width = int(rng.integers(3, 6))
    colour = tuple(int(v) for v in rng.integers(0, 60, 3))
    draw.line([(left, y), (right, y)], fill=colour, width=width)
    tip, back = (left, left + 12) if direction == "left" else (right, right - 12)
    draw.polygon([(tip, y), (back, y - 9), (back, y + 9)], fill=colour)
    return image


def shape(kind: str, rng, size=48) -> Image.Image:
    """A circle or a square, at a random place and size: mirroring keeps the class."""
    image, draw = _canvas(rng, size)
    radius = int(rng.integers(8, 14))
    cx, cy = (int(v) for v in rng.integers(radius + 2, size - radius - 2, 2))
    colour = tuple(int(v) for v in rng.integers(0, 80, 3))
    box = [(cx - radius, cy - radius), (cx + radius, cy + radius)]
    (draw.ellipse if kind == "circle" else draw.rectangle)(box, fill=colour)
    return image


def make_dataset(root, draw, classes, per_class=(60, 30), seed=0):
    rng = np.random.default_rng(seed)
    for split, count in zip(("train", "validation"), per_class):
        for label in classes:
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                draw(label, rng).save(folder / f"{label}_{index:03d}.png")
    return root


@pytest.fixture(scope="module")
def arrows(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("arrows"), arrow, ("left", "right"))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("shapes"), shape, ("circle", "square"))


def _decide(root):
    scan = scan_dataset(root)
    return choose_augmentation(scan.samples("train"), scan.samples("validation"),
                               scan.num_classes, seed=1)


def test_arrows_are_never_mirrored(arrows):
    choice = _decide(arrows)
    assert choice.mirror is False and choice.config.horizontal_flip is False
    # The quick classifier knows the arrows and reads mirrored ones as the other class.
    assert choice.measured["as_they_are"] > 0.9 and choice.measured["mirrored"] < 0.3
    assert "not mirrored" in choice.reasons[0]


def test_circles_and_squares_are_mirrored(shapes):
    choice = _decide(shapes)
    assert choice.mirror is True and choice.config.horizontal_flip is True
    assert "mirrored during training" in choice.reasons[0]


def test_pictures_the_probe_cannot_tell_apart_are_left_unmirrored(tmp_path):
    rng = np.random.default_rng(0)
    noise = lambda label, rng: Image.fromarray(rng.integers(0, 256, (32, 32, 3), np.uint8))
    root = make_dataset(tmp_path / "noise", noise, ("a", "b"), seed=2)
    choice = _decide(root)
    assert choice.mirror is False and choice.large_turns is False
    assert choice.config.rotation_range <= 10
    assert "to be safe" in choice.reasons[0]


def test_real_traffic_signs_are_not_mirrored_but_flowers_are(shared):
    signs = scan_dataset(shared("datasets", "traffic_signs"))
    choice = choose_augmentation(signs.samples("train"), signs.samples("validation"),
                                 signs.num_classes)
    assert choice.mirror is False and choice.large_turns is False
    flowers = scan_dataset(shared("datasets", "flowers"))
    choice = choose_augmentation(flowers.samples("train"), flowers.samples("validation"),
                                 flowers.num_classes)
    assert choice.mirror is True


def test_the_run_records_each_choice_and_why(arrows, tmp_path):
    out = tmp_path / "run"
    assert main(["train", str(arrows), "--out", str(out), "--epochs", "1"]) == 0
    config = json.loads((out / "config.json").read_text())
    recipe = {item["setting"]: item for item in config["recipe"]["choices"]}
    assert config["recipe"]["name"] == "auto"
    assert recipe["model"]["value"] == config["model"] == "compact_cnn"
    assert "no pretrained weights" in recipe["model"]["why"]
    assert recipe["image_size"]["value"] == config["image_size"] == 48  # the pictures' size
    assert recipe["augmentation"]["value"]["mirror"] is False
    assert config["augmentation"]["horizontal_flip"] is False
    summary = (out / "summary.txt").read_text()
    assert "compact network from scratch" in summary and "not mirrored" in summary


def test_a_chosen_setting_is_kept(arrows, tmp_path):
    request = build_request(TrainingConfig(str(arrows), str(tmp_path / "r"), image_size=40,
                                           epochs=2, augment="none"))
    request, _ = request.resolve(scan_dataset(arrows))
    assert (request.image_size, request.config.epochs) == (40, 2)
    assert request.augmentation().horizontal_flip is False
    assert {c["setting"] for c in request.choices} == {"model", "epochs"}


def test_a_named_model_keeps_the_old_defaults(arrows, tmp_path):
    request = build_request(TrainingConfig(str(arrows), str(tmp_path / "r"), model="small_cnn"))
    assert (request.config.epochs, request.config.optimizer, request.image_size) == \
        (10, "rmsprop", 150)
    assert request.recipe is None and request.choices == ()


def test_a_weights_file_is_recognised_and_remembered(shared):
    path = shared(*WEIGHTS)
    weights = identify_weights(path)
    assert (weights.backbone, weights.alpha) == ("mobilenet_v2", 0.35)
    assert available_weights() == [] or all(w.path != str(path) for w in available_weights())
    remember_weights(weights)
    assert available_weights()[0] == PretrainedWeights(str(path.resolve()), "mobilenet_v2", 0.35)


def test_a_file_that_is_no_known_network_gets_a_sentence(tmp_path):
    import h5py

    from core.errors import ConfigError

    path = tmp_path / "other.weights.h5"
    with h5py.File(path, "w") as handle:
        handle["layers/dense/vars/0"] = np.zeros((10, 3), np.float32)
    with pytest.raises(ConfigError, match="matches none of the networks"):
        identify_weights(path)


def test_given_weights_choose_the_pretrained_recipe(shared, arrows, tmp_path):
    path = shared(*WEIGHTS)
    request = build_request(TrainingConfig(str(arrows), str(tmp_path / "r"),
                                           extra={"weights": str(path)}))
    assert (request.model, request.mode) == ("mobilenet_v2", "finetune")
    extra = request.config.extra
    assert extra["alpha"] == 0.35 and extra["head"] == "logreg" and extra["unfreeze"] == "all"
    assert "pretrained on photos" in request.choices[0]["why"]
    request, _ = request.resolve(scan_dataset(arrows))
    assert request.image_size == 160  # 48 px pictures: the smallest size the features need


def test_a_named_backbone_takes_its_width_from_the_weights_file(shared, arrows, tmp_path):
    path = str(shared(*WEIGHTS))
    request = build_request(TrainingConfig(str(arrows), str(tmp_path / "r"), model="mobilenet_v2",
                                           extra={"weights": path}))
    assert request.config.extra["alpha"] == 0.35
    from core.errors import TrainingError

    with pytest.raises(TrainingError, match="holds MobileNetV2 \\(width 0.35\\), not vgg16"):
        build_request(TrainingConfig(str(arrows), str(tmp_path / "r"), model="vgg16",
                                     extra={"weights": path}))
    with pytest.raises(TrainingError, match="pass --alpha 0.35"):
        build_request(TrainingConfig(str(arrows), str(tmp_path / "r"), model="mobilenet_v2",
                                     extra={"weights": path, "alpha": 1.0}))
