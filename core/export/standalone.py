#!/usr/bin/env python3
"""Classify pictures with the exported model in this folder.

    python predict.py PICTURE_OR_FOLDER [...]

prints one CSV line per picture, ``path,label,probability``, after a header line. Folders are
searched for pictures (also in their subfolders). Needs NumPy, Pillow and this format's
runtime only (model.json says which: onnxruntime, ai-edge-litert or tensorflow).

The model takes RGB pixels 0-255 at its input size (model.json "input"); this script reads a
picture as Image Classifier Studio does (EXIF rotation applied, transparency over white, grey
and 16-bit pictures made RGB) and resizes it with bilinear filtering and antialiasing.

Inside Image Classifier Studio this file is core/export/standalone.py; each export folder gets
a copy named predict.py, so it must never import anything of the project.
"""
from __future__ import annotations

import csv
import json
import os
import sys

import numpy as np

PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff",
                    ".ppm", ".pgm", ".pbm", ".pnm")
HERE = os.path.dirname(os.path.abspath(__file__))


# --- pictures ------------------------------------------------------------------------------

def read_picture(path: str) -> np.ndarray:
    """A picture file as an (H, W, 3) uint8 RGB array."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.load()
        try:
            image = ImageOps.exif_transpose(image)
        except Exception:  # damaged EXIF: keep the picture as stored
            pass
        mode = image.mode
        if mode.startswith("I;16") or mode in ("I", "F"):
            grey = _grey_to_uint8(np.asarray(image), mode)
            return np.repeat(grey[:, :, None], 3, axis=2)
        if mode in ("RGBA", "LA", "La", "PA", "RGBa") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.array(Image.alpha_composite(white, rgba).convert("RGB"))
        if mode == "1":
            image = image.convert("L")
        return np.array(image.convert("RGB"))


def _grey_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    values = values.astype(np.float64)
    if mode == "F" and values.size and values.min() >= 0 and values.max() <= 1:
        scaled = values * 255
    elif mode == "F" or (values.size and (values.min() < 0 or values.max() > 65535)):
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255 / (high - low)) if high > low else np.zeros_like(values)
    else:
        scaled = values * (255 / 65535)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def resize(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (height, width, 3) float32 in [0, 255]: bilinear with antialiasing,
    computed in floating point (no rounding to whole levels), as the app resizes."""
    from PIL import Image

    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(pixels[:, :, c]).astype(np.float32),
                                           mode="F").resize((width, height), Image.BILINEAR))
                for c in range(3)]
    return np.clip(np.stack(channels, axis=-1), 0.0, 255.0).astype(np.float32)


def find_pictures(arguments: list[str]) -> list[str]:
    files = []
    for argument in arguments:
        if os.path.isdir(argument):
            for folder, subfolders, names in os.walk(argument):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                files += [os.path.join(folder, name) for name in sorted(names)
                          if not name.startswith(".") and name.lower().endswith(PICTURE_SUFFIXES)]
        else:
            files.append(argument)
    return files


# --- the model -------------------------------------------------------------------------------

class ExportedModel:
    """The model of one export folder: `predict(batch)` takes (N, H, W, 3) float32 pixels in
    [0, 255] and returns (N, classes) probabilities."""

    def __init__(self, folder: str = HERE):
        with open(os.path.join(folder, "model.json"), encoding="utf-8") as handle:
            self.info = json.load(handle)
        self.labels = list(self.info["class_names"])
        self.height, self.width = self.info["input"]["size"]
        self.path = os.path.join(folder, self.info["model_file"])
        self.input_dtype, self.input_quantization = "float32", None
        runtime = self.info["runtime"]
        self._predict = {"tensorflow": self._savedmodel, "litert": self._litert,
                         "onnxruntime": self._onnx}[runtime]()

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, np.float32)
        if len(batch) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        return np.asarray(self._predict(batch), np.float32)

    def _savedmodel(self):
        import tensorflow as tf

        serve = tf.saved_model.load(self.path).signatures["serving_default"]
        (name,) = serve.structured_input_signature[1]
        return lambda batch: next(iter(serve(**{name: tf.constant(batch)}).values())).numpy()

    def _litert(self):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # TensorFlow's own copy of the interpreter works too
            import warnings

            import tensorflow as tf

            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            Interpreter = tf.lite.Interpreter
        interpreter = Interpreter(model_path=self.path)
        source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        self.input_dtype = np.dtype(source["dtype"]).name
        self.input_quantization = [float(v) for v in source["quantization"]]
        shape = [None]

        def run(batch):
            if shape[0] != batch.shape:
                interpreter.resize_tensor_input(source["index"], batch.shape)
                interpreter.allocate_tensors()
                shape[0] = batch.shape
            interpreter.set_tensor(source["index"], _quantize(batch, source))
            interpreter.invoke()
            return _dequantize(interpreter.get_tensor(target["index"]), target)

        return run

    def _onnx(self):
        import onnxruntime

        session = onnxruntime.InferenceSession(self.path, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda batch: session.run(None, {name: batch})[0]


def _quantize(batch: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not np.issubdtype(detail["dtype"], np.integer):
        return batch.astype(detail["dtype"])
    limits = np.iinfo(detail["dtype"])
    values = np.rint(batch / (scale or 1.0) + zero_point)
    return np.clip(values, limits.min, limits.max).astype(detail["dtype"])


def _dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not np.issubdtype(values.dtype, np.integer):
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * scale


# --- the command -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] in ("-h", "--help"):
        print(__doc__, file=sys.stdout if arguments else sys.stderr)
        return 0 if arguments else 2
    model = ExportedModel()
    paths = find_pictures(arguments)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["path", "label", "probability"])
    failed = 0
    for path in paths:
        try:
            pixels = resize(read_picture(path), model.height, model.width)
        except Exception as error:  # unreadable: say so and go on with the others
            print(f"skipped {path}: {error}", file=sys.stderr)
            failed += 1
            continue
        probabilities = model.predict(pixels[None])[0]
        best = int(np.argmax(probabilities))
        writer.writerow([path, model.labels[best], f"{float(probabilities[best]):.6f}"])
    if not paths:
        print("No pictures found in " + ", ".join(arguments), file=sys.stderr)
    return 1 if failed or not paths else 0


if __name__ == "__main__":
    sys.exit(main())
