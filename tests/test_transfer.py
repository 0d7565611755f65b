"""Transfer learning on real photos with the shared MobileNetV2 0.35 weights: the four modes,
the feature cache (hit, miss, invalidation, damage), cancellation during extraction, linear
heads, fine-tuning that only moves the unfrozen layers, and runs that reload and predict
exactly as they were trained. 120 training + 60 validation cats/dogs photos at 96-128 px."""
import hashlib
import json
import os
import shutil

import h5py
import numpy as np
import pytest

from conftest import shared_path
from core.util.progress import CancelToken, ProgressListener
from core.runs.run import Run
from core.training import TrainingConfig
from core.training import train

pytestmark = pytest.mark.slow

SIZE = 128
PER_CLASS = {"train": 60, "validation": 30}


class Recorder(ProgressListener):
    def __init__(self, cancel=None):
        self.events, self.logs, self.cancel = [], [], cancel

    def on_stage(self, name, total=None):
        self.events.append(("stage", name, total))

    def on_step(self, done, total):
        self.events.append(("step", done, total))
        if self.cancel is not None and self.events[-2:-1] == [("stage", "extract", total)]:
            self.cancel.cancel()  # during the first extraction batch

    def on_log(self, message):
        self.logs.append(message)

    def stages(self):
        return [e[1] for e in self.events if e[0] == "stage"]


@pytest.fixture(scope="module")
def weights():
    return str(shared_path("weights", "mobilenet_v2_0.35_imagenet_notop.weights.h5"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A small copy of cats_dogs (the real data stays read-only)."""
    source = shared_path("datasets", "cats_dogs")
    root = tmp_path_factory.mktemp("photos") / "cats_dogs"
    for split, count in PER_CLASS.items():
        for label in ("cats", "dogs"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for path in sorted((source / split / label).iterdir())[:count]:
                shutil.copy(path, folder / path.name)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("feature_cache")


def transfer_config(data, out, weights, cache, mode="bottleneck", model="mobilenet_v2",
                    image_size=SIZE, epochs=10, **extra):
    options = {"weights": weights, "alpha": 0.35, "cache_dir": str(cache)}
    if "+" in model or model != "mobilenet_v2":
        options.pop("alpha")
    options.update(extra)
    return TrainingConfig(str(data), str(out), model=model, mode=mode, image_size=image_size,
                          epochs=epochs, batch_size=32, augment="light", seed=4, extra=options)


@pytest.fixture(scope="module")
def bottleneck(photos, weights, cache, tmp_path_factory):
    """A bottleneck run on an empty cache, with its progress events."""
    recorder = Recorder()
    out = tmp_path_factory.mktemp("runs") / "bottleneck"
    result = train(transfer_config(photos, out, weights, cache), listener=recorder)
    return out, result, recorder


def test_bottleneck_learns_real_photos_and_records_the_run(bottleneck, weights, cache):
    out, result, recorder = bottleneck
    assert result["status"] == "finished" and result["best_val_accuracy"] >= 0.75  # chance 0.5
    config = Run.open(out).config
    assert config["mode"] == "bottleneck" and config["image_size"] == SIZE
    (backbone,) = config["backbones"]
    assert backbone["name"] == "mobilenet_v2" and backbone["alpha"] == 0.35
    assert backbone["weights"]["source"] == "file" and backbone["weights"]["path"] == weights
    assert backbone["weights_id"] == "sha256:" + backbone["weights"]["sha256"]
    assert config["cache"]["misses"] == 180 and config["cache"]["hits"] == 0
    assert config["cache"]["files"][0].startswith(str(cache))
    assert config["extraction"]["images"] == 180 and config["extraction"]["seconds"] > 0
    assert config["extraction"]["images_per_second"] > 0
    assert config["stages"] == [{"name": "head", "first_epoch": 1, "last_epoch": 10,
                                 "head": "dense", "on": "features", "optimizer": "rmsprop",
                                 "learning_rate": pytest.approx(1e-3)}]
    assert [row["stage"] for row in Run.open(out).history] == ["head"] * 10
    # extraction progress: images done out of 180, in order, ending at 180
    assert ("stage", "extract", 180) in recorder.events
    steps = [e[1] for e in recorder.events[recorder.events.index(("stage", "extract", 180)):]
             if e[0] == "step" and e[2] == 180]
    assert steps == sorted(steps) and steps[-1] == 180 and len(steps) == 6


def test_a_second_run_reuses_the_cache_and_trains_only_the_head(bottleneck, photos, weights,
                                                                cache, tmp_path):
    first_out, first, _ = bottleneck
    recorder = Recorder()
    result = train(transfer_config(photos, tmp_path / "again", weights, cache), listener=recorder)
    assert "extract" not in recorder.stages() and "head" in recorder.stages()
    config = Run.open(tmp_path / "again").config
    assert config["cache"]["hits"] == 180 and config["cache"]["misses"] == 0
    assert config["extraction"]["images"] == 0
    assert result["best_val_accuracy"] == pytest.approx(first["best_val_accuracy"], abs=0.02)
    assert any("Reusing cached features of all 180 images" in line for line in recorder.logs)


HISTORY_KEYS = ("epoch", "stage", "loss", "accuracy", "val_loss", "val_accuracy")


def _history(run_dir):
    return [{key: row[key] for key in HISTORY_KEYS} for row in Run.open(run_dir).history]


def _same_weights(first_model, second_model) -> bool:
    first, second = first_model.get_weights(), second_model.get_weights()
    return len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second))


def test_a_run_from_the_saved_base_is_the_run_a_full_build_gives(bottleneck, photos, weights,
                                                                cache, tmp_path):
    # With every feature cached, the base is not built again (core.training.model_template): the head
    # starts from the same state, trains to the same history, and both saved models hold
    # exactly the weights that building and saving the whole network gives.
    first_out, first, first_recorder = bottleneck
    assert not any("Reusing the saved base" in line for line in first_recorder.logs)
    recorder = Recorder()
    out = tmp_path / "from_template"
    result = train(transfer_config(photos, out, weights, cache), listener=recorder)
    assert any("Reusing the saved base" in line for line in recorder.logs)
    assert _history(out) == _history(first_out)
    assert result["best_epoch"] == first["best_epoch"]
    first_run, run = Run.open(first_out), Run.open(out)
    for which in ("best", "final"):
        model, reference = run.load_model(which), first_run.load_model(which)
        assert model.to_json() == reference.to_json()
        assert _same_weights(model, reference), which
    for key in ("backbones", "weights", "transfer", "preprocessing", "num_params", "heatmap"):
        assert run.config[key] == first_run.config[key], key
    assert (out / "summary.txt").read_text() == (first_out / "summary.txt").read_text()


def test_a_damaged_model_template_is_rebuilt_not_a_crash(photos, weights, tmp_path):
    cache = tmp_path / "cache"
    train(transfer_config(photos, tmp_path / "a", weights, cache, image_size=64, epochs=3))
    (template,) = (cache / "templates").glob("*/model.keras")
    data = template.read_bytes()
    template.write_bytes(data[: len(data) // 2])  # cut short, as by a crash or a full disk
    recorder = Recorder()
    result = train(transfer_config(photos, tmp_path / "b", weights, cache, image_size=64,
                                   epochs=3), listener=recorder)
    assert result["status"] == "finished"
    assert not any("Reusing the saved base" in line for line in recorder.logs)
    assert _same_weights(Run.open(tmp_path / "b").load_model(),
                         Run.open(tmp_path / "a").load_model())
    # That run mended the template: the next one uses it again, with the same outcome.
    recorder = Recorder()
    train(transfer_config(photos, tmp_path / "c", weights, cache, image_size=64, epochs=3),
          listener=recorder)
    assert any("Reusing the saved base" in line for line in recorder.logs)
    assert _history(tmp_path / "c") == _history(tmp_path / "a")
    assert _same_weights(Run.open(tmp_path / "c").load_model(),
                         Run.open(tmp_path / "a").load_model())


def test_saved_run_reloads_and_predicts_exactly_like_the_trained_head(bottleneck, photos, cache):
    import keras

    from core.inference.evaluation import evaluate_run
    from core.data.imageio import read_image
    from core.inference.prediction import Predictor

    out, result, _ = bottleneck
    first, second = Predictor(out), Predictor(out)
    images = [read_image(p) for p in sorted((photos / "validation" / "dogs").iterdir())[:4]]
    probs = first.predict_arrays(images)
    assert np.array_equal(probs, second.predict_arrays(images))
    # The same head applied to the cached features of those photos gives the same numbers.
    digests = [hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted((photos / "validation" / "dogs").iterdir())[:4]]
    with h5py.File(Run.open(out).config["cache"]["files"][0], "r") as handle:
        index = {d: i for i, d in enumerate(handle["digests"].asstr()[()])}
        features = handle["features"][()][[index[d] for d in digests]]
    model = first.model
    head_input = keras.Input((features.shape[1],))
    head = keras.Model(head_input, model.get_layer("predictions")(model.get_layer("dropout")(
        head_input)))
    assert np.allclose(probs[:, 1], head.predict_on_batch(features)[:, 0], atol=1e-5)
    # Evaluating the saved image model on the validation photos reproduces the run's accuracy.
    report = evaluate_run(out, photos, predictor=first)
    assert report["accuracy"] == pytest.approx(result["best_val_accuracy"], abs=1e-6)
    heatmap, method = first.explain(images[0])
    assert method == "cam" and heatmap.shape == images[0].shape[:2] and heatmap.std() > 0.01


def test_cache_misses_only_what_changed(bottleneck, photos, weights, cache, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(photos, changed)
    victim = sorted((changed / "train" / "cats").iterdir())[0]
    victim.write_bytes(sorted((shared_path("datasets", "cats_dogs", "train", "cats")).iterdir())[
        -1].read_bytes())  # another photo, not in the subset
    recorder = Recorder()
    train(transfer_config(changed, tmp_path / "changed_run", weights, cache, epochs=1),
          listener=recorder)
    config = Run.open(tmp_path / "changed_run").config
    assert config["cache"]["misses"] == 1 and config["cache"]["hits"] == 179
    assert ("stage", "extract", 1) in recorder.events
    # Another input size or another backbone is another cache file: everything misses.
    train(transfer_config(photos, tmp_path / "size", weights, cache, image_size=96, epochs=1))
    assert Run.open(tmp_path / "size").config["cache"]["misses"] == 180
    train(transfer_config(photos, tmp_path / "other", "none", cache, model="efficientnet_b0",
                          image_size=32, epochs=1))
    other = Run.open(tmp_path / "other").config["cache"]
    assert other["misses"] == 180 and other["files"] != config["cache"]["files"]


def test_a_damaged_cache_file_is_rebuilt_not_a_crash(photos, weights, tmp_path):
    cache = tmp_path / "cache"
    train(transfer_config(photos, tmp_path / "a", weights, cache, image_size=64, epochs=1))
    (path,) = Run.open(tmp_path / "a").config["cache"]["files"]
    data = open(path, "rb").read()
    with open(path, "wb") as handle:
        handle.write(data[: len(data) // 3])  # truncated, as by a crash or a full disk
    recorder = Recorder()
    result = train(transfer_config(photos, tmp_path / "b", weights, cache, image_size=64,
                                   epochs=1), listener=recorder)
    assert result["status"] == "finished"
    config = Run.open(tmp_path / "b").config
    assert config["cache"]["rebuilt"] == [path] and config["cache"]["misses"] == 180
    assert any("unusable" in line and "rebuilding" in line for line in recorder.logs)
    with h5py.File(path, "r") as handle:  # rewritten whole
        assert handle["features"].shape == (180, 1280)


def test_too_little_disk_for_the_cache_is_reported_before_extracting(photos, weights, tmp_path,
                                                                   capsys, monkeypatch):
    import collections

    from main import main

    usage = collections.namedtuple("usage", "total used free")
    checked = []

    def nearly_full(path):
        checked.append(str(path))
        return usage(10**12, 10**12 - 20 * 2**20, 20 * 2**20)  # 20 MB left

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    cache = tmp_path / "not_yet" / "cache"
    code = main(["train", str(photos), "--out", str(tmp_path / "run"), "--model", "mobilenet_v2",
                 "--alpha", "0.35", "--weights", weights, "--mode", "bottleneck",
                 "--image-size", "64", "--epochs", "1", "--cache-dir", str(cache)])
    err = capsys.readouterr().err
    message = err.strip().splitlines()[-1]  # after the scan's progress lines
    assert code == 2 and "Traceback" not in err, err
    assert "feature cache needs about" in message and "20 MB are free" in message
    assert "--cache-dir" in message and "--no-cache" in message
    assert "[extract]" not in err
    assert checked and all(str(cache).startswith(path) for path in checked)
    assert not list(cache.rglob("*.h5"))  # no features were extracted or written
    assert Run.open(tmp_path / "run").status == "failed"
    # Without the cache the same run needs no disk for features and trains.
    code = main(["train", str(photos), "--out", str(tmp_path / "run2"), "--model",
                 "mobilenet_v2", "--alpha", "0.35", "--weights", weights, "--mode", "bottleneck",
                 "--image-size", "64", "--epochs", "1", "--no-cache"])
    assert code == 0 and Run.open(tmp_path / "run2").status == "finished"


def test_cancel_during_extraction_stops_and_keeps_what_was_extracted(photos, weights, tmp_path):
    cache, cancel = tmp_path / "cache", CancelToken()
    recorder = Recorder(cancel=cancel)
    result = train(transfer_config(photos, tmp_path / "run", weights, cache, image_size=64),
                   listener=recorder, cancel=cancel)
    assert result["status"] == "cancelled"
    assert "head" not in recorder.stages()
    start = recorder.events.index(("stage", "extract", 180))
    assert [e for e in recorder.events[start:] if e[0] == "step"] == [("step", 32, 180)]
    assert not (tmp_path / "run" / "best.keras").exists()
    (path,) = Run.open(tmp_path / "run").config["cache"]["files"]
    with h5py.File(path, "r") as handle:
        assert handle["features"].shape == (32, 1280)
    # The next run extracts only the rest.
    train(transfer_config(photos, tmp_path / "again", weights, cache, image_size=64, epochs=1))
    assert Run.open(tmp_path / "again").config["cache"]["misses"] == 180 - 32


@pytest.mark.parametrize("head", ["logreg", "svm"])
def test_linear_heads_become_an_equivalent_dense_layer(bottleneck, photos, weights, cache,
                                                       tmp_path, head):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from core.inference.prediction import Predictor
    from core.training.transfer.heads import _probabilities

    result = train(transfer_config(photos, tmp_path / head, weights, cache, head=head))
    run = Run.open(tmp_path / head)
    assert result["best_val_accuracy"] >= 0.75
    assert [row["stage"] for row in run.history] == ["head"]
    assert run.config["cache"]["misses"] == 0
    predictor = Predictor(run)
    kernel, bias = predictor.model.get_layer("predictions").get_weights()
    with h5py.File(run.config["cache"]["files"][0], "r") as handle:
        features = handle["features"][()]
    expected = _probabilities(features, kernel.astype(np.float64), bias.astype(np.float64))
    if head == "logreg":  # exactly scikit-learn's probabilities on the same features
        from core.data.scanning import scan_dataset
        scan = scan_dataset(photos)
        with h5py.File(run.config["cache"]["files"][0], "r") as handle:
            index = {d: i for i, d in enumerate(handle["digests"].asstr()[()])}
        train_rows = [index[scan.info[s.path].digest] for s in scan.samples("train")]
        labels = [s.label for s in scan.samples("train")]
        scaler = StandardScaler().fit(features[train_rows])
        # C was chosen on held-out training features and recorded in the run.
        sklearn = LogisticRegression(C=run.config["head_c"], max_iter=3000).fit(
            scaler.transform(features[train_rows]), labels)
        assert np.allclose(expected, sklearn.predict_proba(scaler.transform(features)), atol=1e-4)
    # ... and the saved image model computes that same Dense layer.
    assert predictor.explain(np.full((96, 96, 3), 128, np.uint8))[1] == "cam"
    assert np.all((expected >= 0) & (expected <= 1))


def test_frozen_mode_trains_the_head_on_augmented_images_only(photos, weights, cache, tmp_path):
    import keras

    result = train(transfer_config(photos, tmp_path / "frozen", weights, cache, mode="frozen",
                                   image_size=96, epochs=1))
    run = Run.open(tmp_path / "frozen")
    assert result["status"] == "finished" and [r["stage"] for r in run.history] == ["frozen"]
    assert run.config["stages"][0]["name"] == "frozen"
    model = run.load_model()
    reference = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35,
                                               include_top=False, weights=None)
    reference.load_weights(weights)
    assert all(np.array_equal(a, b) for a, b in
               zip(model.get_layer("mobilenet_v2").get_weights(), reference.get_weights()))
    assert "cache" not in run.config  # no features involved


def test_finetune_from_a_bottleneck_run_moves_only_the_unfrozen_layers(bottleneck, photos,
                                                                      weights, cache, tmp_path):
    source, first, _ = bottleneck
    result = train(transfer_config(photos, tmp_path / "tuned", weights, cache, mode="finetune",
                                   image_size=None, from_run=str(source), unfreeze=3,
                                   finetune_epochs=1, fine_tune_lr=0.01))
    run = Run.open(tmp_path / "tuned")
    assert result["status"] == "finished" and run.image_size == SIZE  # taken from the source
    assert [row["epoch"] for row in run.history] == list(range(1, 12))
    assert [row["stage"] for row in run.history] == ["head"] * 10 + ["finetune"]
    stages = run.config["stages"]
    assert [(s["name"], s["first_epoch"], s["last_epoch"]) for s in stages] == [
        ("head", 1, 10), ("finetune", 11, 11)]
    assert stages[1]["unfrozen_layers"] == ["block_16_depthwise", "block_16_project", "Conv_1"]
    assert stages[1]["optimizer"] == "sgd" and stages[1]["momentum"] == 0.9
    # best.keras never falls below the model fine-tuning started from
    assert result["best_val_accuracy"] >= first["best_val_accuracy"] - 1e-6
    before = Run.open(source).load_model().get_layer("mobilenet_v2")
    after = run.load_model("final").get_layer("mobilenet_v2")
    moved = set()
    for old, new in zip(before.layers, after.layers):
        for a, b in zip(old.get_weights(), new.get_weights()):
            if not np.array_equal(a, b):
                moved.add(new.name)
    assert moved == {"block_16_depthwise", "block_16_project", "Conv_1"}  # BN stats included


def test_finetune_trains_a_head_then_the_top_block_in_one_history(photos, weights, cache,
                                                                  tmp_path):
    from core.inference.prediction import Predictor

    result = train(transfer_config(photos, tmp_path / "two", weights, cache, mode="finetune",
                                   epochs=3, finetune_epochs=1))
    run = Run.open(tmp_path / "two")
    assert result["status"] == "finished"
    assert [(r["epoch"], r["stage"]) for r in run.history] == [
        (1, "head"), (2, "head"), (3, "head"), (4, "finetune")]
    assert run.config["stages"][1]["unfrozen_layers"] == [
        "block_16_expand", "block_16_depthwise", "block_16_project", "Conv_1"]
    assert run.config["cache"]["misses"] == 0  # stage 1 used the features cached earlier
    image = np.asarray(np.random.default_rng(0).integers(0, 255, (80, 120, 3)), np.uint8)
    heatmap, method = Predictor(run).explain(image)
    assert method == "cam" and heatmap.shape == (80, 120)


def test_fusion_runs_all_bases_and_the_head_as_one_model(photos, weights, cache, tmp_path):
    """(Bases at different sizes inside one model: see test_backbones; here the whole run.)"""
    from core.inference.prediction import Predictor

    result = train(transfer_config(
        photos, tmp_path / "fusion", f"mobilenet_v2={weights},efficientnet_b0=none", cache,
        mode=None, model="mobilenet_v2+efficientnet_b0", image_size=96, alpha=0.35,
        fusion_base="efficientnet_b0"))
    run = Run.open(tmp_path / "fusion")
    assert result["status"] == "finished" and run.config["mode"] == "fusion"
    assert result["best_val_accuracy"] >= 0.7
    bases = {b["name"]: b for b in run.config["backbones"]}
    assert bases["mobilenet_v2"]["image_size"] == 96 and bases["mobilenet_v2"]["alpha"] == 0.35
    assert bases["efficientnet_b0"]["weights"] == {"source": "none"}
    assert bases["efficientnet_b0"]["weights_id"] == "none:seed=4"
    assert run.config["transfer"]["feature_dim"] == 1280 + 1280
    cache_use = run.config["cache"]
    assert cache_use["misses"] == 180 and len(cache_use["files"]) == 2
    assert cache_use["per_base"]["efficientnet_b0"]["misses"] == 180
    assert run.config["heatmap"] == {"feature_layer": "efficientnet_b0",
                                     "choices": ["mobilenet_v2", "efficientnet_b0"]}
    predictor = Predictor(run)
    assert [layer.name for layer in predictor.model.layers if layer.name in bases] == [
        "mobilenet_v2", "efficientnet_b0"]
    image = np.asarray(np.random.default_rng(1).integers(0, 255, (90, 70, 3)), np.uint8)
    assert predictor.predict_arrays([image]).shape == (1, 2)
    heatmap, method = predictor.explain(image)
    assert method == "gradcam" and heatmap.shape == (90, 70)
    assert predictor.explainer.feature_name == "efficientnet_b0"  # --fusion-base


def test_cli_trains_a_bottleneck_run_and_explains_a_photo(photos, weights, cache, tmp_path,
                                                         capsys):
    from core.cli import main

    out = tmp_path / "cli"
    assert main(["train", str(photos), "--out", str(out), "--model", "mobilenet_v2",
                 "--alpha", "0.35", "--weights", weights, "--mode", "bottleneck",
                 "--image-size", str(SIZE), "--epochs", "2", "--head", "dense",
                 "--cache-dir", str(cache), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "finished"
    assert Run.open(out).config["training"]["extra"]["cache_dir"] == str(cache)
    photo = sorted((photos / "validation" / "cats").iterdir())[0]
    assert main(["predict", str(out), str(photo), "--cam", str(tmp_path / "cams"), "--json"]) == 0
    (prediction,) = json.loads(capsys.readouterr().out)
    assert prediction["cam_method"] == "cam" and prediction["label"] in ("cats", "dogs")


def test_cli_offline_imagenet_fails_with_one_line_naming_the_file(photos, tmp_path, capsys,
                                                                  monkeypatch):
    from core.models.weights import keras_models_folder
    from core.cli import main

    expected = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    if os.path.exists(os.path.join(keras_models_folder(), expected)):
        pytest.skip("the ImageNet file is already cached by Keras")
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # refuse at once, network or not
    monkeypatch.setenv("ICS_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["train", str(photos), "--out", str(tmp_path / "run"), "--model", "mobilenet_v2",
                 "--alpha", "0.35", "--image-size", "96", "--mode", "bottleneck"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error:")
    assert expected in err[-1] and "--weights /path/to/file.h5" in err[-1]


def test_cli_flags_become_training_extras():
    from core.cli import build_parser
    from core.training.transfer.options import TransferOptions
    from core.training.transfer.cli_options import extra_from_cli

    args = build_parser().parse_args([
        "train", "data", "--out", "run", "--model", "mobilenet_v2", "--weights", "none",
        "--alpha", "0.5", "--head", "svm", "--head-c", "0.5", "--unfreeze", "4",
        "--finetune-epochs", "2", "--fine-tune-lr", "0.001", "--from-run", "r",
        "--fusion-base", "xception", "--cache-dir", "c", "--no-cache", "--pooling", "flatten"])
    extra = extra_from_cli(args)
    assert extra == {"weights": "none", "alpha": 0.5, "head": "svm", "regularization": 0.5,
                     "unfreeze": 4, "finetune_epochs": 2, "fine_tune_lr": 0.001,
                     "from_run": "r", "fusion_base": "xception", "cache_dir": "c",
                     "pooling": "flatten", "use_cache": False}
    assert TransferOptions.from_extra(extra).head == "svm"
    plain = extra_from_cli(build_parser().parse_args(["train", "data", "--out", "run"]))
    assert plain == {}
    with pytest.raises(ValueError, match="unknown transfer-learning option.*colour"):
        TransferOptions.from_extra({"colour": "red"})
    with pytest.raises(ValueError, match="--unfreeze 0"):
        TransferOptions.from_extra({"unfreeze": 0})


def test_feature_cache_is_keyed_by_content_and_written_atomically(tmp_path):
    from core.training.transfer.feature_cache import FeatureCache

    key = {"backbone": "mobilenet_v2", "image_size": 96, "pooling": "avg", "weights": "x"}
    cache = FeatureCache(tmp_path, key)
    assert cache.missing(["a", "b", "a"]) == ["a", "b"]
    cache.put(["a", "b"], np.arange(6, dtype=np.float32).reshape(2, 3))
    assert cache.save() and not cache.save()  # nothing new the second time
    # no temporary left (the lock that makes runs sharing the cache merge their rows stays)
    assert sorted(p.name for p in tmp_path.iterdir()) == [cache.path.name,
                                                          cache.path.name + ".lock"]
    again = FeatureCache(tmp_path, key)
    assert again.missing(["b", "c"]) == ["c"]
    assert np.array_equal(again.get(["b", "a"]), [[3, 4, 5], [0, 1, 2]])
    other = FeatureCache(tmp_path, {**key, "image_size": 128})
    assert other.path != cache.path and other.missing(["a"]) == ["a"]
    cache.path.write_bytes(b"not hdf5 at all")
    broken = FeatureCache(tmp_path, key).load()
    assert broken.problem and broken.missing(["a"]) == ["a"]
    broken.put(["a"], np.ones((1, 3), np.float32))
    assert broken.save() and FeatureCache(tmp_path, key).load().problem is None
