"""Turning a run's Keras model into the files of each export format.

The conversions themselves are Keras 3's `Model.export` (keras/src/export): "tf_saved_model"
for SavedModel and "litert" for the three LiteRT models, whose keyword arguments set the
TFLite converter's options (float16 weights; full-integer quantization with a representative
dataset). What this module adds is what `Model.export` lacks:

- the model it is given: one input named ``pixels`` (RGB 0-255 at the run's input size; the
  models of this program already carry their rescaling or their backbone's
  ``preprocess_input`` as layers, core.models.preprocessing), one output named
  ``probabilities`` with a column per class (a two-class model's single sigmoid unit becomes
  two columns), computed in float32 even when the run trained in mixed_bfloat16;
- int8 calibration on the run's own training pictures, uint8 in and out;
- only LiteRT's built-in operators (Keras also allows TensorFlow's "select" operators, which
  ai-edge-litert cannot run): a model that would need them fails here, not on the phone;
- ONNX from a frozen graph: `Model.export(format="onnx")` hands tf2onnx a function whose
  captured constants (EfficientNet's Normalization mean and variance, so every fusion with
  EfficientNet) become extra graph inputs that nobody can feed. Freezing the function first
  (TensorFlow's convert_variables_to_constants_v2) turns them into constants; tf2onnx still
  does the conversion.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.export.formats import ExportFormat

INPUT_NAME = "pixels"
OUTPUT_NAME = "probabilities"


def serving_model(model, image_size: int):
    """The run's model as it is exported: ``pixels`` in, ``probabilities`` out, float32."""
    import keras

    model = float32_copy(model)
    pixels = keras.Input((image_size, image_size, 3), name=INPUT_NAME, dtype="float32")
    outputs = model(pixels, training=False)
    if model.output_shape[-1] == 1:  # sigmoid: P(second class); the first is 1 - p
        outputs = keras.layers.Concatenate(name=OUTPUT_NAME)([1.0 - outputs, outputs])
    else:
        outputs = keras.layers.Identity(name=OUTPUT_NAME)(outputs)
    return keras.Model(pixels, outputs, name="exported")


def float32_copy(model):
    """`model` itself when it computes in float32, else a float32 copy with the same weights
    (a run trained in mixed_bfloat16 keeps float32 weights, so nothing is lost)."""
    import keras

    if computes_in_float32(model):
        return model
    config = keras.saving.serialize_keras_object(model)
    copy = keras.saving.deserialize_keras_object(_float32_config(config))
    copy.set_weights(model.get_weights())
    return copy


def computes_in_float32(model) -> bool:
    """False for a model (or a nested base) that computes in mixed_bfloat16."""
    return all(layer.dtype_policy.compute_dtype == "float32" for layer in _layers(model))


def _layers(model):
    yield model
    for layer in model.layers:
        yield from _layers(layer) if hasattr(layer, "layers") else (layer,)


def _float32_config(value):
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy" and isinstance(value.get("config"), dict):
            return {**value, "config": {**value["config"], "name": "float32"}}
        return {key: _float32_config(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_float32_config(item) for item in value]
    return value


def write_model(export_format: ExportFormat, model, folder: Path, calibration=None) -> Path:
    """Write `model` (a `serving_model`) in `export_format` into `folder`; returns the model
    file (or folder, for SavedModel). `calibration`: a callable yielding float32 batches of
    one training picture each (tflite-int8 only)."""
    import tensorflow as tf

    target = folder / export_format.model_file
    builtins = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}
    with _quiet():
        if export_format.name == "savedmodel":
            model.export(str(target), format="tf_saved_model", verbose=False)
        elif export_format.name == "tflite":
            model.export(str(target), format="litert", verbose=False, target_spec=builtins)
        elif export_format.name == "tflite-fp16":
            model.export(str(target), format="litert", verbose=False,
                         optimizations=[tf.lite.Optimize.DEFAULT],
                         target_spec={**builtins, "supported_types": [tf.float16]})
        elif export_format.name == "tflite-int8":
            model.export(str(target), format="litert", verbose=False,
                         optimizations=[tf.lite.Optimize.DEFAULT],
                         representative_dataset=lambda: ([batch] for batch in calibration()),
                         target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
                         inference_input_type=tf.uint8, inference_output_type=tf.uint8)
        elif export_format.name == "onnx":
            _write_onnx(model, target)
        else:  # pragma: no cover - FORMATS and this list are kept together
            raise ExportError(f"No converter for {export_format.name}.")
    return target


def _write_onnx(model, target: Path) -> None:
    import onnx
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import \
        convert_variables_to_constants_v2

    _patch_tf2onnx()
    spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME)
    function = tf.function(lambda pixels: model(pixels, training=False))
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(spec))
    inputs = [tensor.name for tensor in frozen.inputs]
    outputs = [tensor.name for tensor in frozen.outputs]
    proto, _ = tf2onnx.convert.from_graph_def(frozen.graph.as_graph_def(), input_names=inputs,
                                              output_names=outputs)
    # tf2onnx keeps TensorFlow's tensor names ("pixels:0", "Identity:0"): plain names instead.
    _rename(proto.graph, inputs[0], INPUT_NAME)
    _rename(proto.graph, outputs[0], OUTPUT_NAME)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(target))


def _rename(graph, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]
    for value in list(graph.input) + list(graph.output):
        if value.name == old:
            value.name = new


def _patch_tf2onnx() -> None:
    """tf2onnx 1.17 still refers to NumPy names removed in NumPy 2 on some paths; Keras ships
    the patch it applies before its own ONNX export, so use that same one."""
    try:
        from keras.src.export.tf2onnx_lib import patch_tf2onnx
    except ImportError:  # a Keras that no longer needs (or ships) it
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        patch_tf2onnx()


@contextlib.contextmanager
def _quiet():
    """The converters print pages of progress (tf2onnx's logger, the TFLite converter's
    "fully_quantize" line on stdout); the person sees our own progress instead."""
    loggers = [logging.getLogger(name) for name in ("tf2onnx", "absl", "tensorflow")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def file_size(path: Path) -> int:
    """Bytes of a model file, or of everything in a SavedModel folder."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        path.unlink()
