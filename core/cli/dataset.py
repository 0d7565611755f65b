"""Commands about pictures and datasets: `inspect`, `review`, `augment-preview`, `demo`."""
from __future__ import annotations

import os
from pathlib import Path

from core.cli.common import PrintListener, UsageError, emit


def cmd_inspect(args) -> int:
    from core.data.scanning import scan_dataset

    listener = None if args.json else PrintListener()
    scan = scan_dataset(args.data, val_split=args.val_split, test_split=args.test_split,
                        seed=args.seed, listener=listener)
    report = scan.report()
    lines = [f"Dataset {report['root']}", f"  layout: {report['layout']}",
             f"  classes ({len(report['classes'])}): {', '.join(report['classes'])}",
             f"  images: {report['num_images']}"]
    for split, counts in report["splits"].items():
        lines.append(f"  {split}: " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    size = report["image_size"]
    if size:
        lines.append(f"  image size (w x h): min {size['min']}, median {size['median']}, "
                     f"max {size['max']}")
    lines.append(f"  suggested input size: {report['suggested_input_size']} px")
    if report["split_note"]:
        lines.append(f"  split: {report['split_note']}")
    for item in report["unreadable"]:
        lines.append(f"  unreadable: {item['path']}: {item['reason']}")
    for warning in report["warnings"]:
        lines.append(f"  warning: {warning}")
    if getattr(args, "deep", False):
        report, lines = _deep(args, scan, report, lines, listener)
    emit(args, report, "\n".join(lines))
    return 0


def _deep(args, scan, report, lines, listener):
    """inspect --deep: label issues, near-duplicates and outliers (core.training.curation)."""
    from core.training.transfer.dataset_features import pick_weights

    weights = pick_weights(args.weights)  # its sentence before TensorFlow loads
    from core.util.tf_runtime import load_tensorflow

    load_tensorflow()
    from core.training.curation import curate

    found = curate(scan, weights, listener, cache_folder=args.cache_dir).report()
    report = {**report, **found}
    lines.append(f"  looked with {weights.title} ({found['deep'].get('pictures', 0)} pictures)")
    issues = found["label_issues"]
    lines.append(f"  probably in the wrong folder: {len(issues)}")
    for item in issues[:20]:
        lines.append(f"    {item['path']}: in {item['given']}, looks like {item['suggested']} "
                     f"(score {item['score']:.3f})")
    if len(issues) > 20:
        lines.append(f"    ... and {len(issues) - 20} more (--json lists them all)")
    groups = found["near_duplicates"]
    lines.append(f"  groups of near-duplicates: {len(groups)}")
    for group, kind in zip(groups[:20], found["near_duplicate_kinds"]):
        lines.append(f"    {kind}: {', '.join(group)}")
    lines.append(f"  outliers (unlike every class): {len(found['outliers'])}")
    for path in found["outliers"][:20]:
        lines.append(f"    {path}")
    return report, lines


def cmd_review(args) -> int:
    """review DATA: mark pictures as a class, exclude them, undo, list (core.data.review)."""
    from core.data.review import ReviewStore
    from core.data.scanning import scan_dataset
    from core.models.weights_store import settings_dir

    if bool(args.mark) != bool(args.label):
        raise UsageError("--mark PICTURE needs --as CLASS (and --as goes with --mark): "
                         "e.g. --mark photo.jpg --as dogs.")
    listener = None if args.json else PrintListener()
    scan = scan_dataset(args.data, val_split=args.val_split, test_split=args.test_split,
                        seed=args.seed, listener=listener)
    store = ReviewStore(scan.root, settings_dir())
    done = []
    for picture in args.mark:
        key, decision = store.mark(scan, picture, args.label)
        done.append({"picture": picture, "key": key, **decision})
    paths = {os.path.abspath(os.path.expanduser(picture)): picture for picture in args.exclude}
    decisions = store.exclude_all({path: getattr(scan.info.get(path), "digest", None)
                                   for path in paths})
    done += [{"picture": picture, **decision}
             for picture, decision in zip(paths.values(), decisions)]
    undone = store.undo() if args.undo else None
    _, summary = store.apply(scan, with_added=True)
    report = {"file": str(store.path), "added_folder": str(store.added_folder), "done": done,
              "undone": undone, "counts": store.counts(), "added": list(store.added().values()),
              "next_training": {key: summary.get(key, default) for key, default in (
                  ("num_added", 0), ("held_back", []), ("stale", []))}}
    emit(args, report, "\n".join(_review_lines(report, done, undone)))
    return 0


_DONE_WORDS = {"add": "added as {label} (a copy joins the training pictures)",
               "relabel": "moved to {label}", "keep": "kept as it is", "exclude": "excluded"}


def _review_lines(report: dict, done: list, undone) -> list[str]:
    counts = report["counts"]
    lines = [f"{item['picture']}: {_DONE_WORDS[item['action']].format(label=item.get('label'))}"
             for item in done]
    if undone:
        lines.append(f"Took back the decision about {undone}.")
    lines += [f"Your decisions (kept in {report['file']}; your folders are never changed):",
              f"  excluded: {counts['exclude']}, moved to another class: {counts['relabel']}, "
              f"kept as they are: {counts['keep']}, added from elsewhere: {counts['add']}"]
    lines += [f"    {item['name']} as {item['label']}" for item in report["added"]]
    upcoming = report["next_training"]
    lines.append(f"  the next training gets {upcoming['num_added']} added picture(s), as "
                 "training pictures only (never validation, so its score stays honest)")
    lines += [f"  held back: {item['name']} ({item['why']})" for item in upcoming["held_back"]]
    if upcoming["stale"]:
        lines.append(f"  {len(upcoming['stale'])} decision(s) no longer match their file")
    return lines


def cmd_augment_preview(args) -> int:
    import cv2

    from core.util import atomic
    from core.data.augmentation.presets import load_augmentation
    from core.data.augmentation.preview import MAX_PREVIEW_SIZE, make_grid, preview
    from core.data.imageio import read_image

    if not 1 <= args.n <= 64:
        raise UsageError(f"Received --n {args.n}; expected between 1 and 64 tiles.")
    if not 1 <= args.size <= MAX_PREVIEW_SIZE:
        raise UsageError(f"Received --size {args.size}; expected a tile size from 1 to "
                         f"{MAX_PREVIEW_SIZE} px, such as 224.")
    out = Path(args.out)
    image_folder = Path(args.image).resolve().parent
    out_folder = out.resolve().parent
    if out_folder == image_folder or image_folder in out_folder.parents:
        raise UsageError(f"--out {out} is inside {image_folder}, the folder of the image (in a "
                         "dataset the grid would be trained on as one of its pictures); choose "
                         "a file outside it.")
    config = load_augmentation(args.config)
    tiles = preview(read_image(args.image), config, n=args.n, seed=args.seed, size=args.size)
    grid = make_grid(tiles)
    ok, encoded = cv2.imencode(out.suffix or ".png", cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    if not ok:
        raise UsageError(f"Cannot write {out}: use a .png or .jpg file name.")
    atomic.write_bytes(out, encoded.tobytes())
    print(f"Wrote {len(tiles)} augmented versions to {out}")
    return 0


def cmd_demo(args) -> int:
    from core.data.demo import make_demo_dataset

    path = make_demo_dataset(args.dest, images_per_class=args.per_class)
    print(f"Demo dataset written to {path}")
    return 0
