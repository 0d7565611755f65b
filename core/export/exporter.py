"""`export_run`: a run folder in, one export folder per format out, each checked against the
run's .keras model on real pictures before it is published.

Each format is written into a hidden staging folder inside the output folder; only when its
parity check passes are its files moved into place (replacing an earlier export of the same
files). A format that fails its check, a stop or a crash leaves nothing half-written, and the
formats published before it stay.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.export import convert, files, parity
from core.export.formats import ALL, check_tools, parse_formats
from core.export.pictures import dataset_folder, find_pictures, load_batch
from core.runs.run import Run
from core.util.progress import CancelToken, notify


def export_run(run: Run | str | os.PathLike, format_name: str, out: str | os.PathLike, *,
               data: str | os.PathLike | None = None, which: str = "best", listener=None,
               cancel: CancelToken | None = None) -> dict:
    """Export `run` as `format_name` (a format of core.export.formats.FORMATS, or "all") into
    `out`: the folder itself for one format, a subfolder per format for "all".

    `data`: the run's dataset when it has moved (parity pictures and int8 calibration come
    from it). Returns {"out", "run", "formats": [{"format", "folder", "model_file",
    "file_size_bytes", "parity", "seconds"}]}.

    Raises:
        ExportError: unknown format, unusable output folder, missing converter (the message
            names the command that installs it), missing dataset, or a failed parity check.
        RunError: the run folder is damaged or has no trained model.
    """
    formats = parse_formats(format_name)
    run = run if isinstance(run, Run) else Run.open(run)
    run.model_path(which)  # a run with no trained model says so before anything else
    check_tools(formats)
    out = check_output_folder(out, run, dataset_folder(run, data))
    cancel = cancel or CancelToken()
    pictures = find_pictures(run, data, listener=listener, cancel=cancel)

    notify(listener, "on_stage", "load", None)
    model = run.load_model(which)
    serving = convert.serving_model(model, run.image_size)
    batch = load_batch(pictures.parity, run.image_size)
    if len(batch) == 0:
        raise ExportError(f"None of the run's {pictures.split} pictures in {pictures.dataset} "
                          "could be read, so the export cannot be checked.")
    reference = parity.probabilities(serving.predict_on_batch, batch)
    as_trained = _as_trained(model, batch, reference)
    calibration = _calibration(pictures.calibration, run.image_size)

    results, failures = [], []
    for export_format in formats:
        cancel.raise_if_cancelled()
        folder = out / export_format.name if format_name.strip().lower() == ALL else out
        notify(listener, "on_stage", f"export {export_format.name}", None)
        started = time.perf_counter()
        try:
            result = _export_one(export_format, serving, run, which, pictures, folder, batch,
                                 reference, calibration, as_trained)
        except ExportError as error:  # with "all", the other formats are still worth having
            failures.append((export_format.name, error.sentence))
            continue
        result["seconds"] = round(time.perf_counter() - started, 1)
        notify(listener, "on_log", parity.describe(export_format, result["parity"]))
        results.append(result)
    if failures:
        raise _failed(failures, results, out)
    return {"out": str(out), "run": str(run.path), "formats": results}


def _failed(failures: list, results: list, out: Path) -> ExportError:
    """One sentence: the first failure, which others failed, and what was written."""
    text = failures[0][1].rstrip(".")
    if len(failures) > 1:
        text += f"; {', '.join(name for name, _ in failures[1:])} did not pass either"
    if results:
        written = ", ".join(item["format"] for item in results)
        text += f"; {written} {'was' if len(results) == 1 else 'were'} written to {out}"
    return ExportError(text + ".")


def _export_one(export_format, serving, run, which, pictures, folder: Path, batch, reference,
                calibration, note: str | None) -> dict:
    from core.export.standalone import ExportedModel

    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".export-{export_format.name}-", dir=folder))
    try:
        model_path = convert.write_model(export_format, serving, staging, calibration)
        info = files.write_support_files(staging, export_format, run, which, pictures.dataset)
        exported = ExportedModel(str(staging))
        figures = parity.figures(reference, parity.probabilities(exported.predict, batch),
                                 export_format, pictures.split)
        parity.check(figures, export_format)
        if note:
            figures["note"] = note
        size = convert.file_size(model_path)
        info = files.finish_info(staging, info, size, figures, exported)
        del exported  # an open interpreter or session keeps the file busy on Windows
        for item in sorted(staging.iterdir()):
            convert.remove(folder / item.name)
            os.replace(item, folder / item.name)
    finally:
        convert.remove(staging)
    return {"format": export_format.name, "folder": str(folder),
            "model_file": str(folder / export_format.model_file),
            "file_size_bytes": info["file_size_bytes"], "parity": info["parity"]}


def _as_trained(model, batch, reference) -> str | None:
    """For a run that computes in mixed_bfloat16: the exported models compute in float32 and
    are compared with the float32 computation of the same weights; say how often the app's
    bfloat16 answers agree with it."""
    if convert.computes_in_float32(model):
        return None
    outputs = parity.probabilities(model.predict_on_batch, batch)
    if outputs.shape[1] == 1:
        outputs = np.concatenate([1.0 - outputs, outputs], axis=1)
    agreement = float((outputs.argmax(axis=1) == reference.argmax(axis=1)).mean())
    return (f"The run computes in mixed_bfloat16; the export computes in float32 and is "
            f"compared with the .keras model computed in float32 (the app's bfloat16 answers "
            f"give the same label on {agreement:.1%} of these pictures, largest probability "
            f"difference {np.abs(outputs - reference).max():.2g}).")


def _calibration(paths: list[str], image_size: int):
    """A callable yielding one calibration picture at a time (read when int8 needs them)."""
    loaded = []

    def pictures():
        if not loaded:
            loaded.append(load_batch(paths, image_size))
        for picture in loaded[0]:
            yield picture[None].astype(np.float32)

    return pictures


def check_output_folder(out: str | os.PathLike, run: Run, dataset: Path) -> Path:
    """The output folder, refused when it is a file, the run folder, or inside the dataset
    (an export among the pictures would be scanned as pictures next time) or not writable."""
    from core.util.atomic import check_writable

    if not str(out).strip():
        raise ExportError("Choose an output folder for the export (--out DIR).")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExportError(f"The output {out} is a file; give a folder for the export (it is "
                          "created if it does not exist).")
    resolved = out.resolve()
    data = dataset.resolve()
    if resolved == data or data in resolved.parents:
        raise ExportError(f"The output folder {out} is inside the dataset {dataset}; choose a "
                          "folder outside it, so the export is not read as pictures.")
    if resolved == run.path.resolve():
        raise ExportError(f"The output folder {out} is the run folder itself; choose another "
                          "folder (for example a new folder beside the run).")
    check_writable(out)
    return out
