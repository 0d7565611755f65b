"""The transfer-learning flags of `train` on the command line, read back into `TrainingConfig.extra`."""
from __future__ import annotations

from core.training.transfer.options import CACHE_ENV, HEADS, POOLINGS


# --- command line ------------------------------------------------------------------------------


def add_cli_arguments(parser) -> None:
    """The transfer-learning flags of `train` (read back by `extra_from_cli`)."""
    group = parser.add_argument_group("pretrained backbones (--mode bottleneck, frozen, "
                                      "finetune, fusion)")
    group.add_argument("--weights", metavar="imagenet|none|PATH", default=None,
                       help="backbone weights: imagenet (downloaded once by Keras into "
                            "~/.keras/models), none (random), or a weights file; for fusion "
                            "BASE=SPEC,BASE=SPEC (default imagenet)")
    group.add_argument("--alpha", type=float, default=None,
                       help="MobileNetV2 width: 0.35, 0.5, 0.75, 1.0 (default), 1.3 or 1.4")
    group.add_argument("--head", choices=HEADS, default=None,
                       help="dense (dropout + dense, default), dense-hidden (dense 256 + dropout "
                            "+ dense), logreg or svm (scikit-learn on the features)")
    group.add_argument("--pooling", choices=POOLINGS, default=None,
                       help="avg: global average pooling (default; heatmaps are CAM); flatten: "
                            "the whole feature map, as the Keras blog")
    group.add_argument("--dropout", type=float, default=None, help="head dropout (default 0.5)")
    group.add_argument("--head-c", type=float, default=None, metavar="C", dest="regularization",
                       help="logreg / svm heads: inverse regularization strength C on "
                            "standardised features (default: for logreg, chosen on a held-out part of the "
                            "training pictures)")
    group.add_argument("--unfreeze", type=_unfreeze, default=None, metavar="N|all",
                       help="finetune: unfreeze the top N layers with weights, or all (default: the "
                            "backbone's top block)")
    group.add_argument("--finetune-epochs", type=int, default=None, metavar="N",
                       help="finetune: epochs of the fine-tuning stage (default 5; --epochs is "
                            "the head stage)")
    group.add_argument("--fine-tune-lr", type=float, default=None, metavar="LR",
                       help="finetune: learning rate of stage 2 (default 1e-4; SGD with momentum 0.9 "
                            "for the top block, Adam when all layers are unfrozen)")
    group.add_argument("--from-run", default=None, metavar="RUN",
                       help="finetune: start from this run's model (e.g. a bottleneck run) "
                            "instead of training a head first")
    group.add_argument("--fusion-base", default=None, metavar="NAME",
                       help="fusion: the base whose heatmap predict --cam shows (default: first)")
    group.add_argument("--cache-dir", default=None, metavar="DIR",
                       help=f"feature cache folder (default ${CACHE_ENV} or "
                            "~/.cache/image-classifier-studio/features)")
    group.add_argument("--no-cache", action="store_true",
                       help="extract features again and do not store them")


def _unfreeze(text: str):
    """--unfreeze: a number of layers, or "all"."""
    import argparse

    if text.strip().lower() == "all":
        return "all"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of layers or 'all', got {text!r}")


def extra_from_cli(args) -> dict:
    """TrainingConfig.extra from the parsed flags (only what was given)."""
    names = ("weights", "alpha", "head", "pooling", "dropout", "regularization", "unfreeze",
             "finetune_epochs", "fine_tune_lr", "from_run", "fusion_base", "cache_dir")
    extra = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if getattr(args, "no_cache", False):
        extra["use_cache"] = False
    return extra
