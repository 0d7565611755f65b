"""Each backbone's input preprocessing as a serialisable layer, so saved models take raw RGB pixels in [0, 255]."""
from __future__ import annotations

import math

from core.util.tf_runtime import load_tensorflow
from core.models.backbones import get_backbone
from core.models.weights import WeightsSource


load_tensorflow()  # quietly; the custom layer below must be registered before any model loads
import keras  # noqa: E402
# keras.applications.efficientnet's ImageNet statistics (see _efficientnet_file_correction).
_EFFICIENTNET_MEAN_RGB = (0.485, 0.456, 0.406)
_EFFICIENTNET_STDDEV_RGB = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="ics")
class CaffePreprocessing(keras.layers.Layer):
    """RGB pixels in [0, 255] -> BGR minus the ImageNet channel means.

    The "caffe" mode of `keras.applications.imagenet_utils.preprocess_input`, used by VGG16
    and ResNet50, as a layer so that a saved model carries it (a Lambda layer would not load
    in safe mode).
    """

    MEAN_BGR = (103.939, 116.779, 123.68)

    def call(self, inputs):
        inputs = keras.ops.cast(inputs, self.compute_dtype)
        mean = keras.ops.convert_to_tensor(self.MEAN_BGR, dtype=self.compute_dtype)
        return keras.ops.flip(inputs, axis=-1) - mean

    def compute_output_shape(self, input_shape):
        return input_shape


def preprocessing_layer(name: str, weights: WeightsSource, layer_name: str = "preprocess"):
    """The backbone's `preprocess_input` as a serialisable layer (None: the base has its own)."""
    backbone = get_backbone(name)
    if backbone.preprocessing == "tf":
        return keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=layer_name)
    if backbone.preprocessing == "caffe":
        return CaffePreprocessing(name=layer_name)
    if name == "efficientnet_b0" and weights.kind == "file":
        return _efficientnet_file_correction(layer_name)
    return None  # EfficientNet rescales and normalises inside the base


def _efficientnet_file_correction(layer_name: str):
    """keras.applications builds EfficientNet with one extra Rescaling (1/sqrt(stddev)) only
    when it downloads the ImageNet weights. A base built for a weights file lacks it, so the
    same per-channel affine step is applied before the base: with the file's normalisation
    statistics, x' = x / sqrt(s) + 255 m (1 - 1 / sqrt(s)) gives exactly Keras's pixels."""
    scale = [1 / math.sqrt(s) for s in _EFFICIENTNET_STDDEV_RGB]
    offset = [255 * m * (1 - k) for m, k in zip(_EFFICIENTNET_MEAN_RGB, scale)]
    return keras.layers.Rescaling(scale, offset=offset, name=layer_name)
