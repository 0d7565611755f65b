"""`export`: a trained run as files for other programs (core.export)."""
from __future__ import annotations

from core.cli.common import PrintListener, emit


def cmd_export(args) -> int:
    from core.export.exporter import export_run

    result = export_run(args.run, args.format, args.out, data=args.data, which=args.which,
                        listener=None if args.json else PrintListener())
    lines = [f"Wrote {item['format']}: {item['model_file']} ({_size(item['file_size_bytes'])})"
             for item in result["formats"]]
    notes = {item["parity"].get("note") for item in result["formats"]} - {None}
    lines += sorted(notes)
    lines.append("Input: RGB pixels 0-255 at the model's input size (no other preprocessing). "
                 f"Try it: python {_first_folder(result)}/predict.py PICTURE")
    emit(args, result, "\n".join(lines))
    return 0


def _first_folder(result: dict):
    return result["formats"][0]["folder"]


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"
