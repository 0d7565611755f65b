"""Commands that list what there is: `runs` (training runs) and `models`."""
from __future__ import annotations

from core.cli.common import emit


def cmd_runs(args) -> int:
    from core.runs.run import list_runs

    runs = list_runs(args.root)
    lines = [f"{'run':30} {'model':16} {'status':10} {'epochs':>6} {'best val acc':>12}"]
    for run in runs:
        acc = "-" if run.best_val_accuracy is None else f"{run.best_val_accuracy:.4f}"
        lines.append(f"{run.name:30} {run.model:16} {run.status:10} {run.epochs:>6} {acc:>12}")
    if not runs:
        lines = [f"No runs in {args.root}."]
    emit(args, [run.to_dict() for run in runs], "\n".join(lines))
    return 0


def cmd_models(args) -> int:
    from core.models.registry import available_models

    specs = available_models()
    payload = [{"name": s.name, "title": s.title, "family": s.family, "modes": list(s.modes),
                "default_image_size": s.default_image_size, "description": s.description}
               for s in specs]
    text = "\n".join(f"{s.name:18} {s.family:9} {s.default_image_size:>4}px  {s.description}"
                     for s in specs)
    emit(args, payload, text)
    return 0
