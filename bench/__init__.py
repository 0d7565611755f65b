"""Benchmarks of Image Classifier Studio against its baselines (not tests: no timing asserts).

`python -m bench` runs every measurement module in its own child process, prints one table
(goal, figure, ratio, met) and writes bench/results.json. See bench/README.md.
"""

MODULES = ("input_pipeline", "legacy_baseline", "compute_roof", "bottleneck",
           "prediction_latency", "gui_responsiveness", "scale", "memory", "accuracy", "export",
           "curation", "distribute")

# Run only when named with --only: they explain figures rather than measure a goal.
DIAGNOSTICS = ("pipeline_stages",)
