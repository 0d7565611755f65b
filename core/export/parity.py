"""The parity check: does the exported model answer like the run's .keras model?

Both see the same real pictures, prepared once as the app prepares them. Figures: top-1
agreement (the share of pictures given the same label) and the largest difference of any
class probability. Requirements (core.export.formats): float32 formats (savedmodel, tflite,
onnx) agree on every picture with differences under 1e-4; float16 weights round every
weight to about 3 significant digits, which moves MobileNetV2's probabilities by a few
thousandths, so tflite-fp16 must agree on 99% of the pictures; full-integer (int8) models on
98%. A model that falls short is not published.
"""
from __future__ import annotations

import numpy as np

from core.errors import ExportError
from core.export.formats import ExportFormat

BATCH = 32


def probabilities(predict, batch: np.ndarray) -> np.ndarray:
    """Run `predict` over `batch` in chunks of BATCH pictures."""
    chunks = [np.asarray(predict(batch[i:i + BATCH]), np.float64)
              for i in range(0, len(batch), BATCH)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 0))


def figures(reference: np.ndarray, exported: np.ndarray, export_format: ExportFormat,
            split: str) -> dict:
    """The parity figures written into model.json, with the requirement and its outcome."""
    agreement = float((reference.argmax(axis=1) == exported.argmax(axis=1)).mean())
    difference = float(np.abs(reference - exported).max())
    passed = agreement >= export_format.min_agreement and (
        export_format.max_difference is None or difference < export_format.max_difference)
    return {"pictures": int(len(reference)), "split": split,
            "top1_agreement": round(agreement, 6),
            "max_probability_difference": float(f"{difference:.3g}"),
            "required": requirement(export_format), "passed": bool(passed)}


def requirement(export_format: ExportFormat) -> str:
    if export_format.max_difference is not None:
        return (f"same top label on every picture and probabilities within "
                f"{export_format.max_difference:g}")
    return f"same top label on at least {export_format.min_agreement:.0%} of the pictures"


def check(result: dict, export_format: ExportFormat) -> None:
    """Raise ExportError with the figures when the exported model answers differently."""
    if result["passed"]:
        return
    advice = ("use the float32 tflite or onnx format instead"
              if export_format.max_difference is None else "try another format")
    raise ExportError(
        f"The {export_format.name} model did not pass its check and was not saved: it gave the "
        f".keras model's label on {result['top1_agreement']:.1%} of {result['pictures']} "
        f"{result['split']} pictures (largest probability difference "
        f"{result['max_probability_difference']:.2g}; required: {result['required']}); "
        f"{advice}.")


def describe(export_format: ExportFormat, result: dict) -> str:
    """One line for the person: the figures of a passed check."""
    return (f"{export_format.name}: same label as the .keras model on "
            f"{result['top1_agreement']:.1%} of {result['pictures']} {result['split']} pictures, "
            f"largest probability difference {result['max_probability_difference']:.2g}")
