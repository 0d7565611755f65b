"""The catalog of pretrained backbones (ImageNet networks from `keras.applications`).

Each `Backbone` knows its default input size (224, or 299 for Inception and Xception), its
preprocessing, the file Keras downloads for its ImageNet weights, and where its top block
starts (for fine-tuning). Nothing here imports Keras: listing models must stay fast. Building
them is core.models.networks' job; the registry (core.models.registry) lists them.
"""
from __future__ import annotations

from dataclasses import dataclass
from core.errors import ConfigError



WEIGHTS_CHOICES = ("imagenet", "none")
POOLINGS = ("avg", "flatten")
HEADS = ("dense", "dense-hidden", "logreg", "svm")
MOBILENET_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


@dataclass(frozen=True)
class Backbone:
    """What we need to know about one `keras.applications` network."""

    name: str  # registry name; also the name of the nested base layer in saved models
    title: str
    constructor: str  # attribute of keras.applications
    default_size: int
    min_size: int
    preprocessing: str  # "tf" (scale to [-1, 1]), "caffe" (BGR - mean) or "builtin"
    imagenet_file: str  # the file Keras downloads into ~/.keras/models/ ({alpha}, {rows})
    top_block: str  # first layer of the block fine-tuning unfreezes; "after:X" = after layer X
    description: str
    seconds_hint: str
    has_alpha: bool = False

    def imagenet_file_name(self, image_size: int, alpha: float | None = None) -> str:
        rows = image_size if image_size in (96, 128, 160, 192, 224) else 224
        return self.imagenet_file.format(alpha=float(alpha or 1.0), rows=rows)


BACKBONES: dict[str, Backbone] = {b.name: b for b in (
    Backbone("mobilenet_v2", "MobileNetV2", "MobileNetV2", 224, 32, "tf",
             "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}_no_top.h5",
             "block_16_expand",
             "Small and fast ImageNet network, in widths 0.35 to 1.4. The best first "
             "choice on a laptop: features of 2000 photos in well under a minute at alpha 0.35.",
             "about 15 s per 1000 images to extract features at 224 px (alpha 0.35; about "
             "40 s at alpha 1.0)",
             has_alpha=True),
    Backbone("vgg16", "VGG16", "VGG16", 224, 32, "caffe",
             "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "block5_conv1",
             "The Keras blog's classic: bottleneck features (about 90% on 2000 cats/dogs "
             "photos) and fine-tuning of its last conv block at a low learning rate (about 94%).",
             "about 8 minutes per 1000 images to extract features at 224 px"),
    Backbone("resnet50", "ResNet50", "ResNet50", 224, 32, "caffe",
             "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "conv5_block3_1_conv",
             "Deep residual network ending in global average pooling: accurate, and its "
             "heatmaps are true class activation maps.",
             "about 3 minutes per 1000 images to extract features at 224 px"),
    Backbone("inception_v3", "InceptionV3", "InceptionV3", 299, 75, "tf",
             "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "after:mixed8",
             "Google's Inception network at 299 px; part of the seeds' 99.6% fusion.",
             "about 4 minutes per 1000 images to extract features at 299 px"),
    Backbone("xception", "Xception", "Xception", 299, 71, "tf",
             "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "block14_sepconv1",
             "Depthwise-separable Inception successor at 299 px; strong features, part of "
             "the seeds' 99.6% fusion.",
             "about 6 minutes per 1000 images to extract features at 299 px"),
    Backbone("efficientnet_b0", "EfficientNet-B0", "EfficientNetB0", 224, 32, "builtin",
             "efficientnetb0_notop.h5", "block7a_expand_conv",
             "Modern, compact ImageNet network; more accurate than MobileNetV2 for a little "
             "more time.",
             "about 1 minute per 1000 images to extract features at 224 px"),
)}


def get_backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ConfigError(f"Unknown backbone {name!r}. Available backbones: "
                         f"{', '.join(BACKBONES)}.") from None


# --- building --------------------------------------------------------------------------------


def check_alpha(name: str, alpha: float | None) -> float | None:
    backbone = get_backbone(name)
    if not backbone.has_alpha:
        if alpha is not None:
            raise ConfigError(f"Received --alpha {alpha} for {name}, which has no width "
                             "multiplier; --alpha applies to mobilenet_v2 only.")
        return None
    alpha = 1.0 if alpha is None else float(alpha)
    if alpha not in MOBILENET_ALPHAS:
        raise ConfigError(f"Received --alpha {alpha} for {name}; expected one of "
                         f"{', '.join(map(str, MOBILENET_ALPHAS))} (the widths with ImageNet "
                         "weights).")
    return alpha


TRANSFER_MODES = ("bottleneck", "frozen", "finetune")




