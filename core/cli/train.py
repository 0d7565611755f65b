"""`train`: a new run from a dataset folder, or `--resume` of an interrupted one."""
from __future__ import annotations

from core.cli.common import PrintListener, UsageError, emit


def cmd_train(args) -> int:
    from core.training import scan_for_training, train
    from core.training.distribute import prepare
    from core.training.request import build_request

    if args.resume:
        return _resume(args)
    if not args.data or not args.out:
        missing = " and ".join(name for name, value in (("DATA", args.data), ("--out", args.out))
                               if not value)
        raise UsageError(f"the following arguments are required: {missing} "
                         "(or --resume RUN to continue a run)")
    # Everything that needs no data is checked here, before the (slow) scan.
    request = build_request(training_config(args))
    # Devices are split and a cluster joined before TensorFlow runs any operation.
    prepare(request.config.strategy, request.config.cpu_replicas, request.config.batch_size)
    listener = PrintListener()
    scan = scan_for_training(request, listener=listener)
    request, _ = request.resolve(scan)  # one class: stops here, before TensorFlow builds anything
    result = train(request, listener=listener, scan=scan)
    best = result.get("best_val_accuracy")
    validation = scan.counts().get("validation") or {}
    partial = " (of the classes it holds)" if any(not validation.get(c) for c in scan.classes) else ""
    kept = "; the earlier run there is kept" if result.get("kept_previous_run") else ""
    text = (f"Run saved in {result['run_dir']} ({result['status']}, "
            f"{result['epochs_completed']} epochs, {result['seconds']:.1f}s)"
            + (f"; best validation accuracy {best:.4f}{partial}" if best is not None else "")
            + kept
            + (f"\n{result['assessment']['text']}" if result.get("assessment") else ""))
    emit(args, result, text)
    return 0


def training_config(args):
    """The `TrainingConfig` that `train` arguments ask for."""
    from core.training import TrainingConfig

    return TrainingConfig(
        data_dir=args.data, out_dir=args.out, model=args.model, image_size=args.image_size,
        epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, learning_rate=args.lr, augment=args.augment,
        val_split=args.val_split, test_split=args.test_split, seed=args.seed,
        early_stopping=args.early_stopping, class_weights=args.class_weights, mode=args.mode,
        precision=args.precision, extra=_transfer_extra(args),
        strategy=args.strategy or "auto", cpu_replicas=args.cpu_replicas)


def _resume(args) -> int:
    from core.training import resume_training
    from core.training.distribute import check_choice, prepare, writes_the_run
    from core.util.atomic import check_writable
    from core.runs.run import Run

    if args.data or args.out:
        raise UsageError("--resume RUN continues a run with its own data and settings; leave out "
                         "DATA and --out.")
    run = Run.open(args.resume)  # a clear message for a missing or damaged run, before anything slow
    saved = run.config.get("training") if isinstance(run.config.get("training"), dict) else {}
    strategy = args.strategy or saved.get("strategy") or "auto"
    replicas = args.cpu_replicas if args.cpu_replicas is not None else saved.get("cpu_replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, (int, type(None))):
        replicas = None  # a damaged value: resume_training names it when it reads the settings
    check_choice(strategy, replicas)
    if writes_the_run(strategy):
        check_writable(args.resume)
    # As for a new run: devices split and the cluster joined before any TensorFlow operation.
    prepare(strategy, replicas, saved.get("batch_size") or 32)
    result = resume_training(args.resume, epochs=args.epochs, listener=PrintListener(),
                             strategy=strategy, cpu_replicas=replicas)
    emit(args, result, f"Run {result['run_dir']} resumed ({result['status']}, "
                       f"{result['epochs_completed']} epochs)")
    return 0


def _transfer_extra(args) -> dict:
    from core.training.transfer.cli_options import extra_from_cli

    return extra_from_cli(args)
