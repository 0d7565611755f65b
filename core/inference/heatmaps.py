"""Class-activation heatmaps: where in the picture did the classifier look?

`HeatmapExplainer` reads a Keras model once and picks the method from its head:

- "cam" (Zhou et al. 2016) when the head is GlobalAveragePooling2D [+ Dropout] + Dense:
  the heatmap is the Dense weights of the class applied to every position of the feature map.
  No gradients are needed.
- "gradcam" (Selvaraju et al. 2017) otherwise (Flatten heads, fused backbones, ...): the
  feature map weighted by the spatial mean of the class score's gradient.

Both work through nested backbones (a `keras.applications` model used as a layer).
`overlay`, `colorize` and `annotate` turn heatmaps and labels into pictures; they need only
NumPy and OpenCV, so importing this module does not start TensorFlow.
"""
from __future__ import annotations

import functools

import cv2
import numpy as np
from core.errors import ConfigError

CAM = "cam"
GRAD_CAM = "gradcam"


class HeatmapExplainer:
    """Computes class-activation heatmaps for one Keras classifier.

    Build it once per model and reuse it: construction inspects the model and builds the
    auxiliary model (input -> feature map and classifier input); every `explain()` call on
    same-sized images then runs one compiled TensorFlow function without retracing.

    Args:
        model: a built Functional or Sequential classifier with one image input and one
            output: `Dense(1, sigmoid)` (binary) or `Dense(C, softmax)` as its last layer.
        feature_layer: optional name of the layer whose 4-D output is explained: a top-level
            layer, a nested backbone (for fusion models with several backbones), or a layer
            inside a nested backbone. Default: the map feeding GlobalAveragePooling2D for CAM
            heads, else the first backbone or the last convolution (with the activation
            that follows it).
        method: None to choose automatically, or "cam" / "gradcam" to insist.

    Raises:
        ValueError: for subclassed, unbuilt or multi-input models, models without a
            convolutional feature map, an unknown `feature_layer`, or `method="cam"` on a
            head that is not GlobalAveragePooling2D + Dense.

    Example:

    ```python
    explainer = HeatmapExplainer(model)
    heatmap = explainer.explain_at_size(batch, size=(width, height))
    picture = overlay(image, heatmap, opacity=0.5)
    ```
    """

    def __init__(self, model, feature_layer: str | None = None, method: str | None = None):
        import tensorflow as tf

        if method not in (None, CAM, GRAD_CAM):
            raise ConfigError(f"Received method={method!r}; expected None, {CAM!r} or {GRAD_CAM!r}.")
        output = _single_output(model)
        head, (head_input, *_) = _producer(output)
        if not (_is_layer(head, "Dense") and len(head_input.shape) == 2):
            head = None  # No logits to reach: the output itself is scored.
        cam_feature = _cam_feature(output)

        if feature_layer is not None:
            nested, feature = _named_feature(output, feature_layer)
        elif cam_feature is not None:
            nested, feature = None, cam_feature
        else:
            nested, feature = _search_feature(output)
        is_cam = nested is None and feature is cam_feature
        if method == CAM and not is_cam:
            raise ConfigError(
                "Received method='cam', but CAM needs the explained feature map to feed "
                "GlobalAveragePooling2D [+ Dropout] + Dense at the end of the model. "
                "Use method=None to fall back to Grad-CAM.")

        self.method = CAM if is_cam and method != GRAD_CAM else GRAD_CAM
        layer_name = _producer(feature)[0].name
        self.feature_name = layer_name if nested is None else f"{nested.name}/{layer_name}"
        num_units = int(output.shape[-1])
        self.num_classes = 2 if num_units == 1 else num_units
        self._head = head
        self.feature_model = _feature_model(model, nested, feature, head,
                                            head_input if head is not None else output)
        # A partial, not the bound method: TensorFlow counts traces per code object, so
        # with a bound method every new explainer would warn about "retracing".
        self._heatmap_function = tf.function(functools.partial(HeatmapExplainer._heatmap, self),
                                             reduce_retracing=True)

    def explain(self, batch, class_index: int | None = None) -> np.ndarray:
        """Heatmap of one image at feature-map resolution.

        Args:
            batch: one image as the model takes it, shape (1, H, W, 3) or (H, W, 3).
            class_index: the class to explain; None explains the predicted class.
                For a one-unit sigmoid head, 1 is the unit and 0 its negation.

        Returns:
            float32 array (h, w) in [0, 1]; all zeros when nothing supports the class.
        """
        import tensorflow as tf

        batch = tf.cast(batch, tf.float32)
        if batch.shape.rank == 3:
            batch = batch[tf.newaxis]
        if batch.shape.rank != 4 or batch.shape[0] != 1:
            raise ConfigError(f"Received a batch of shape {tuple(batch.shape)}; expected one "
                             "image, shape (1, H, W, 3) or (H, W, 3).")
        if class_index is None:
            class_index = -1
        elif not 0 <= class_index < self.num_classes:
            raise ConfigError(f"Received class_index={class_index}; this model has "
                             f"{self.num_classes} classes, so use 0 to {self.num_classes - 1}.")
        heatmap = self._heatmap_function(batch, tf.constant(class_index, tf.int32))
        return heatmap.numpy()

    def explain_at_size(self, batch, class_index: int | None = None, size=None) -> np.ndarray:
        """Like `explain`, resized (bilinear) to size=(width, height); default: the image size."""
        heatmap = self.explain(batch, class_index)
        if size is None:
            shape = np.shape(batch)
            size = (shape[-2], shape[-3])
        return _resize(heatmap, size)

    def _heatmap(self, batch, class_index):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            model_features, head_input = self.feature_model(batch, training=False)
            scores = self._class_scores(tf.cast(head_input, tf.float32)[0])
            class_index = tf.where(class_index < 0, tf.argmax(scores, output_type=tf.int32),
                                   class_index)
            score = tf.gather(scores, class_index)
        # A mixed_bfloat16 model (core.training.precision) gives bfloat16 feature maps: the gradient is
        # taken with respect to them (the score does not depend on a float32 copy), then cast.
        features = tf.cast(model_features, tf.float32)
        if self.method == CAM:
            weights = tf.gather(self._signed_kernel(), class_index, axis=1)
        else:
            gradients = tape.gradient(score, model_features)[0]
            weights = tf.reduce_mean(tf.cast(gradients, tf.float32), axis=(0, 1))
        heatmap = tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1))
        return tf.math.divide_no_nan(heatmap, tf.reduce_max(heatmap))

    def _class_scores(self, head_input):
        """One score per class: logits when the head is Dense, else the model's output."""
        import tensorflow as tf

        if self._head is None:
            return tf.concat([1.0 - head_input, head_input], 0) if head_input.shape[0] == 1 \
                else head_input
        scores = tf.linalg.matvec(self._signed_kernel(), head_input, transpose_a=True)
        if self._head.bias is not None:
            bias = tf.cast(self._head.bias, tf.float32)
            scores += tf.concat([-bias, bias], 0) if self._head.units == 1 else bias
        return scores

    def _signed_kernel(self):
        """The head's kernel (features, classes); a one-unit head becomes [-w, w]."""
        import tensorflow as tf

        kernel = tf.cast(self._head.kernel, tf.float32)
        return tf.concat([-kernel, kernel], 1) if self._head.units == 1 else kernel


def colorize(heatmap: np.ndarray, size=None) -> np.ndarray:
    """Heatmap in [0, 1] -> uint8 RGB image (OpenCV JET), resized to size=(width, height)."""
    heatmap = np.asarray(heatmap, np.float32)
    if heatmap.ndim != 2:
        raise ConfigError(f"Received a heatmap of shape {heatmap.shape}; expected (h, w).")
    if size is not None:
        heatmap = _resize(heatmap, size)
    levels = np.round(np.clip(heatmap, 0.0, 1.0) * 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)


def overlay(image_rgb: np.ndarray, heatmap: np.ndarray, opacity: float = 0.5,
            threshold: float = 0.0) -> np.ndarray:
    """Blend a coloured heatmap over an image.

    Args:
        image_rgb: uint8 (H, W, 3) RGB picture.
        heatmap: (h, w) values in [0, 1], resized to the picture.
        opacity: 0 keeps the picture, 1 shows only the colours.
        threshold: positions with heat below it keep the original pixels.

    Returns:
        A new uint8 (H, W, 3) RGB image.
    """
    image = _check_image(image_rgb)
    for name, value in (("opacity", opacity), ("threshold", threshold)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"Received {name}={value}; expected a number from 0 to 1.")
    height, width = image.shape[:2]
    heat = _resize(np.asarray(heatmap, np.float32), (width, height))
    blended = cv2.addWeighted(image, 1.0 - opacity, colorize(heat), opacity, 0.0)
    cold = heat < threshold
    blended[cold] = image[cold]
    return blended


def annotate(image_rgb: np.ndarray, text: str, probability: float | None = None) -> np.ndarray:
    """Copy of the image with "text: 97.12%" in its top-left corner, white on a dark box.

    The font scales with the image and shrinks to fit narrow images.
    """
    image = _check_image(image_rgb).copy()
    label = text if probability is None else f"{text}: {probability * 100:.2f}%"
    height, width = image.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.35, min(height, width) / 400)
    thickness = max(1, round(scale * 1.5))
    pad = max(2, round(6 * scale))
    (text_width, text_height), baseline = cv2.getTextSize(label, font, scale, thickness)
    if text_width + 2 * pad > width:  # Shrink to fit narrow images.
        scale *= max(0.2, (width - 2 * pad) / text_width)
        (text_width, text_height), baseline = cv2.getTextSize(label, font, scale, thickness)
    box_bottom = text_height + baseline + 2 * pad
    cv2.rectangle(image, (0, 0), (text_width + 2 * pad, box_bottom), (24, 24, 24), cv2.FILLED)
    cv2.putText(image, label, (pad, pad + text_height), font, scale, (255, 255, 255),
                thickness, cv2.LINE_AA)
    return image


# ---------------------------------------------------------------------------------------
# Reading the model's graph. Keras 3 has no public API to follow a nested model's node in
# the outer graph (`nested.output` is the nested model's own tensor, disconnected from the
# outer input), so we follow each tensor's `_keras_history` to the layer call that made it.


def _producer(tensor):
    """(layer, input tensors) of the call in the graph that produced `tensor`."""
    history = tensor._keras_history
    node = history.operation._inbound_nodes[history.node_index]
    return history.operation, list(node.input_tensors)


def _walk_back(output):
    """Yield (tensor, layer, consumer tensor) from the output to the inputs, depth first,
    first input first (so the first of several fused backbones comes first)."""
    stack, seen = [(output, None)], set()
    while stack:
        tensor, consumer = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        layer, inputs = _producer(tensor)
        yield tensor, layer, consumer
        stack.extend((parent, tensor) for parent in reversed(inputs))


def _is_layer(layer, *names) -> bool:
    import keras

    return isinstance(layer, tuple(getattr(keras.layers, name) for name in names))


def _is_conv(layer) -> bool:
    return _is_layer(layer, "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose")


def _is_backbone(layer) -> bool:
    """A nested model with convolutions (not, say, a Sequential of augmentation layers)."""
    import keras

    return isinstance(layer, keras.Model) and any(
        _is_conv(inner) or _is_backbone(inner) for inner in layer.layers)


def _single_output(model):
    """The model's one output tensor, read from its layer graph; ValueError otherwise."""
    try:
        inputs, outputs = model.inputs, model.outputs
        if inputs and outputs:
            _producer(outputs[0])
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ConfigError(f"Received a {type(model).__name__} whose layer graph cannot be read; "
                         "heatmaps need a built Functional or Sequential Keras model (give it "
                         "an input shape, or load it from a .keras file).")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConfigError(f"Received a model with {len(inputs)} inputs and {len(outputs)} "
                         "outputs; heatmaps need one image input and one class output.")
    return outputs[0]


def _cam_feature(output):
    """The 4-D map feeding GlobalAveragePooling2D [+ Dropout] + Dense, or None."""
    layer, inputs = _producer(output)
    if not _is_layer(layer, "Dense"):
        return None
    layer, inputs = _producer(inputs[0])
    while _is_layer(layer, "Dropout", "GaussianDropout", "GaussianNoise", "AlphaDropout"):
        layer, inputs = _producer(inputs[0])
    if _is_layer(layer, "GlobalAveragePooling2D") and not layer.keepdims and \
            layer.data_format == "channels_last" and len(inputs[0].shape) == 4:
        return inputs[0]
    return None


def _search_feature(output):
    """(nested model or None, tensor): the first backbone or the last convolution met on the
    way back from the output, moved forward past same-shaped layers (BN, activation)."""
    consumers = {}
    for tensor, layer, consumer in _walk_back(output):
        consumers[id(tensor)] = consumer
        if _is_backbone(layer):
            return _backbone_feature(layer, tensor)
        if _is_conv(layer) and len(tensor.shape) == 4:
            following = consumers[id(tensor)]
            while following is not None and following.shape == tensor.shape:
                tensor, following = following, consumers[id(following)]
            return None, tensor
    raise ConfigError("The model has no convolutional feature map to explain (no Conv2D "
                     "layer and no nested backbone model).")


def _backbone_feature(backbone, tensor):
    """A backbone's 4-D output as it is, or its last feature map inside when it pools."""
    if len(tensor.shape) == 4:
        return None, tensor
    nested, inner = _search_feature(backbone.outputs[0])
    if nested is not None:
        raise ConfigError(f"The backbone '{backbone.name}' pools inside a model nested in "
                         "it; heatmaps reach one level of nesting. Build it with "
                         "pooling=None and add GlobalAveragePooling2D after it.")
    return backbone, inner


def _named_feature(output, name):
    """(nested model or None, tensor) for `feature_layer=name`."""
    backbones, candidates = [], []
    for tensor, layer, _ in _walk_back(output):
        if layer.name == name:
            if _is_backbone(layer):
                return _backbone_feature(layer, tensor)
            if len(tensor.shape) == 4:
                return None, tensor
            raise ConfigError(f"Received feature_layer={name!r}, whose output has shape "
                             f"{tensor.shape}; expected a 4-D feature map (batch, h, w, c).")
        if _is_backbone(layer):
            backbones.append(layer)
        if _is_backbone(layer) or _is_conv(layer):
            candidates.append(layer.name)
    for backbone in backbones:
        inner = next((layer for layer in backbone.layers if layer.name == name), None)
        if inner is not None and len(inner.output.shape) == 4:
            return backbone, inner.output
    raise ConfigError(f"Received feature_layer={name!r}, which is no layer with a 4-D output "
                     f"in this model; try one of: {', '.join(candidates)}.")


def _feature_model(model, nested, feature, head, target):
    """keras.Model: image -> [feature map, target (the head's input, or the output)].

    A map inside a nested backbone is not connected to the outer input, so then the outer
    graph is re-called on the same layers (same weights) with the backbone split into
    [inner map, backbone output].
    """
    import keras

    image = model.inputs[0]
    if nested is None:
        return keras.Model(image, [feature, target])
    split = keras.Model(nested.inputs[0], [feature, nested.outputs[0]])
    taps = {}

    def call(layer, *args, **kwargs):
        if layer is nested:
            taps["feature"], result = split(*args, **kwargs)
            return result
        if layer is head:
            taps["target"] = args[0]
        return layer(*args, **kwargs)

    functional = keras.Model(image, model.outputs[0])  # call_function needs a Functional.
    rewired = keras.models.clone_model(functional, clone_function=lambda layer: layer,
                                       call_function=call)
    return keras.Model(rewired.inputs[0], [taps["feature"], taps.get("target", rewired.outputs[0])])


def _check_image(image_rgb) -> np.ndarray:
    image = np.asarray(image_rgb)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ConfigError(f"Received an image of shape {image.shape} and dtype {image.dtype}; "
                         "expected uint8 RGB, shape (H, W, 3).")
    return image


def _resize(heatmap: np.ndarray, size) -> np.ndarray:
    width, height = int(size[0]), int(size[1])
    if heatmap.shape == (height, width):
        return heatmap.astype(np.float32, copy=True)
    return cv2.resize(heatmap.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
