"""The export formats: what each one writes, what it needs installed, and how close it must
stay to the run's .keras model.

SavedModel and the three LiteRT (TFLite) formats are made by TensorFlow itself, so they work
with the main install. ONNX needs tf2onnx and onnx to convert, and onnxruntime to check the
result; these come with the ``export`` extra (``pip install -e ".[export]"``, see pyproject),
as does ai-edge-litert, the LiteRT runtime the LiteRT formats are checked with when it is
there (TensorFlow's own interpreter otherwise).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from core.errors import ExportError, ExportToolMissingError

EXTRA_COMMAND = 'pip install -e ".[export]"'
"""The one command that adds the optional converters and runtimes (run in the project folder)."""

FLOAT_TOLERANCE = 1e-4
"""Float formats: the largest probability difference allowed against the .keras model."""

FP16_MIN_AGREEMENT = 0.99
"""Float16 weights: their rounding moves probabilities by a few thousandths (core.export.parity)."""

INT8_MIN_AGREEMENT = 0.98
"""Full-integer models: the smallest share of pictures whose top label must match."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    model_file: str
    runtime: str  # what predict.py loads it with (model.json "runtime")
    runtime_install: str  # the pip line a person needs to run predict.py
    needs: tuple[str, ...] = ()  # Python modules the conversion and its check need
    max_difference: float | None = FLOAT_TOLERANCE
    min_agreement: float = 1.0
    use: str = ""


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("savedmodel", "TensorFlow SavedModel", "saved_model", "tensorflow",
                 "pip install tensorflow numpy pillow",
                 use="TensorFlow Serving, the TensorFlow.js converter, Python with TensorFlow"),
    ExportFormat("tflite", "LiteRT / TensorFlow Lite (float32)", "model.tflite", "litert",
                 "pip install ai-edge-litert numpy pillow",
                 use="Android, iOS, Raspberry Pi and other small computers (LiteRT)"),
    ExportFormat("tflite-fp16", "LiteRT / TensorFlow Lite (float16 weights)", "model.tflite",
                 "litert", "pip install ai-edge-litert numpy pillow", max_difference=None,
                 min_agreement=FP16_MIN_AGREEMENT,
                 use="as tflite at half the size; weights rounded to 16-bit floats"),
    ExportFormat("tflite-int8", "LiteRT / TensorFlow Lite (full 8-bit integer)", "model.tflite",
                 "litert", "pip install ai-edge-litert numpy pillow", max_difference=None,
                 min_agreement=INT8_MIN_AGREEMENT,
                 use="microcontrollers, Edge TPU and NPUs; a quarter of the size; calibrated "
                     "on the run's training pictures"),
    ExportFormat("onnx", "ONNX", "model.onnx", "onnxruntime",
                 "pip install onnxruntime numpy pillow",
                 needs=("tf2onnx", "onnx", "onnxruntime"),
                 use="ONNX Runtime on servers, desktops and in browsers (onnxruntime-web)"),
)}

ALL = "all"
ORDER = ("savedmodel", "tflite", "tflite-fp16", "onnx", "tflite-int8")
"""`all` exports in this order: the formats that must match exactly first, int8 last."""


def parse_formats(name: str) -> list[ExportFormat]:
    """The formats a --format value asks for ("all": every one, each into its subfolder)."""
    key = (name or "").strip().lower()
    if key == ALL:
        return [FORMATS[n] for n in ORDER]
    if key not in FORMATS:
        raise ExportError(f"Unknown export format {name!r}; choose one of "
                          f"{', '.join(FORMATS)} or {ALL}.")
    return [FORMATS[key]]


def missing_modules(export_format: ExportFormat) -> list[str]:
    """The Python modules this format needs that are not installed."""
    return [module for module in export_format.needs if importlib.util.find_spec(module) is None]


def check_tools(formats: list[ExportFormat]) -> None:
    """Raise ExportToolMissingError (naming the one command that adds them) when a format's
    converter or runtime is not installed; checked before anything is written."""
    for export_format in formats:
        missing = missing_modules(export_format)
        if missing:
            raise ExportToolMissingError(
                f"Exporting to {export_format.name} needs {', '.join(missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed; add the export tools "
                f"with: {EXTRA_COMMAND}")
