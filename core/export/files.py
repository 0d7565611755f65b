"""What an export folder holds besides the model: labels.txt, model.json, predict.py (a copy
of core/export/standalone.py) and README.md, the snippet that says how to use it."""
from __future__ import annotations

import datetime as _dt
import shutil
from pathlib import Path

from core.export.formats import ExportFormat
from core.runs.run import Run
from core.util import atomic

LABELS_FILE = "labels.txt"
INFO_FILE = "model.json"
PREDICT_FILE = "predict.py"
README_FILE = "README.md"
HEATMAPS_NOTE = ("Heatmaps (CAM / Grad-CAM: where the model looked) stay in Image Classifier "
                 "Studio; the exported model gives the probabilities only.")


def write_support_files(folder: Path, export_format: ExportFormat, run: Run, which: str,
                        dataset: Path) -> dict:
    """Write labels.txt, predict.py, README.md and a first model.json (without the parity
    figures, which `finish_info` adds); returns the model.json contents."""
    atomic.write_text(folder / LABELS_FILE, "".join(f"{label}\n" for label in run.labels))
    shutil.copyfile(Path(__file__).with_name("standalone.py"), folder / PREDICT_FILE)
    info = model_info(export_format, run, which, dataset)
    atomic.write_json(folder / INFO_FILE, info)
    atomic.write_text(folder / README_FILE, readme(export_format, info))
    return info


def model_info(export_format: ExportFormat, run: Run, which: str, dataset: Path) -> dict:
    size = run.image_size
    integer = export_format.name == "tflite-int8"
    return {
        "format": export_format.name,
        "title": export_format.title,
        "model_file": export_format.model_file,
        "runtime": export_format.runtime,
        "install": export_format.runtime_install,
        "input": {
            "name": "pixels",
            "shape": [None, size, size, 3],
            "size": [size, size],
            "channel_order": "RGB",
            "value_range": [0, 255],
            "dtype": "uint8" if integer else "float32",
            "layout": "NHWC (batch, height, width, channels)",
            "preprocessing": "none: the model rescales (or applies its backbone's "
                             "preprocess_input) itself; resize the picture to the input size "
                             "(bilinear with antialiasing, as the app does)",
        },
        # Keras names a SavedModel signature's single output "output_0".
        "output": {"name": "output_0" if export_format.name == "savedmodel" else "probabilities",
                   "shape": [None, len(run.labels)],
                   "meaning": "one probability per class, in the order of class_names"},
        "class_names": list(run.labels),
        "source_run": {"path": str(run.path.resolve()), "name": run.name,
                       "model": run.config.get("model"), "mode": run.config.get("mode"),
                       "model_file": run.model_path(which).name,
                       "dtype_policy": run.config.get("dtype_policy", "float32")},
        "dataset": str(dataset),
        "validation_accuracy": run.best_val_accuracy,
        "exported": _dt.datetime.now().isoformat(timespec="seconds"),
        "file_size_bytes": None,
        "parity": None,
        "versions": _versions(export_format),
        "heatmaps": HEATMAPS_NOTE,
    }


def finish_info(folder: Path, info: dict, size: int, parity: dict, exported) -> dict:
    """Add the file size, the parity figures and the input's quantization to model.json."""
    info = {**info, "file_size_bytes": int(size), "parity": parity}
    if exported.input_quantization and exported.input_dtype != "float32":
        scale, zero_point = exported.input_quantization
        info["input"] = {**info["input"], "dtype": exported.input_dtype,
                         "quantization": {"scale": scale, "zero_point": int(zero_point),
                                          "note": "uint8 value = round(pixel / scale + "
                                                  "zero_point); scale is about 1"}}
    atomic.write_json(folder / INFO_FILE, info)
    return info


def _versions(export_format: ExportFormat) -> dict:
    from importlib import metadata

    names = ["tensorflow", "keras"] + (["tf2onnx", "onnx"] if export_format.name == "onnx" else [])
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


_USE = {
    "tensorflow": '''import tensorflow as tf
serve = tf.saved_model.load("saved_model").signatures["serving_default"]
probabilities = serve(pixels=tf.constant(batch))["output_0"].numpy()''',
    "litert": '''from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path="model.tflite")
interpreter.allocate_tensors()
source = interpreter.get_input_details()[0]
interpreter.set_tensor(source["index"], batch.astype(source["dtype"]))  # see "input" in model.json
interpreter.invoke()
probabilities = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])''',
    "onnxruntime": '''import onnxruntime
session = onnxruntime.InferenceSession("model.onnx")
probabilities = session.run(["probabilities"], {"pixels": batch})[0]''',
}


_FALLBACK = {"litert": "   # or tensorflow: predict.py uses it when ai-edge-litert is missing"}


def readme(export_format: ExportFormat, info: dict) -> str:
    size = info["input"]["size"][0]
    labels = ", ".join(info["class_names"])
    quantized = export_format.name == "tflite-int8"
    input_text = ("uint8 pixels 0-255 (the model's input quantization scale is about 1; "
                  "model.json gives it exactly)" if quantized else "float32 pixels 0-255")
    output_text = ("uint8 values; probability = (value - zero_point) * scale from the output "
                   "details" if quantized else "float32 probabilities")
    return f"""# {info['source_run']['name']}: {export_format.title}

Exported by Image Classifier Studio from the run `{info['source_run']['name']}`
({info['source_run']['model']}) on {info['exported'][:10]}. For: {export_format.use}.

| file | what it is |
|---|---|
| `{export_format.model_file}` | the model |
| `labels.txt` | the class names, one a line, in the order of the model's outputs |
| `model.json` | input, output, classes, source run, dataset, validation accuracy, parity figures |
| `predict.py` | classify pictures from the command line |

**Input**: RGB pictures resized to {size} x {size} pixels, as {input_text}, shape
`[N, {size}, {size}, 3]` (channels last). No other preprocessing: the model rescales the
pixels itself. **Output**: {output_text}, shape `[N, {len(info['class_names'])}]`, one per
class in this order: {labels}.

```bash
{export_format.runtime_install}{_FALLBACK.get(export_format.runtime, "")}
python predict.py photo.jpg folder/     # prints path,label,probability (CSV)
```

In your own Python code (`batch`: a NumPy array as described above):

```python
{_USE[export_format.runtime]}
```

{HEATMAPS_NOTE}
"""
