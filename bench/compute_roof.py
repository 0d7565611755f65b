"""3. The compute roof: default model.fit versus tuned settings, all on in-memory tensors.

"product" builds and compiles as core.training.scratch.run_scratch does (no jit_compile argument:
Keras 3 "auto", which is XLA on the TensorFlow backend when the model allows it; small_cnn in
mixed_bfloat16 on CPUs with native bfloat16, see core.training.precision). Variants: jit_compile off /
forced on, batch 64 instead of 32, mixed_bfloat16, and for small_cnn float32. Thread counts and oneDNN are fixed when
TensorFlow starts, so they are measured in child processes (TF_ENABLE_ONEDNN_OPTS=0, and
intra_op=2/inter_op=1; one child each, as TensorFlow start-up
costs about 10 s). Reported ratio: best variant / product, images/s, medians of
alternating repeats.
"""
from __future__ import annotations

import json
import sys

from bench.common import (alternate, median, module_main, paired_ratios, quiet_tensorflow, row,
                          run_child)
from bench.models import build, compile_like_product, fit_rate, memory_dataset


def _variants(name: str, size: int, images: int):
    # Forced XLA (jit_on) is skipped for mobilenet_v2: it measured 0.10x the product
    # (2026-11-22) and its compile alone costs a minute of the 15-minute budget.
    import keras

    variants = {}

    def make(key, batch=32, policy=None, **compile_args):
        if policy and name != "small_cnn":
            keras.mixed_precision.set_global_policy(policy)
        try:
            model = compile_like_product(build(name, size, policy), **compile_args)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        count = images // batch * batch
        fit_rate(model, memory_dataset(size, batch, batch * 2), batch * 2)  # trace + compile
        variants[key] = lambda: fit_rate(model, memory_dataset(size, batch, count), count)

    make("product")
    make("jit_off", jit_compile=False)
    if name == "small_cnn":
        make("jit_on", jit_compile=True)
    make("batch64", batch=64)
    make("bf16", policy="mixed_bfloat16")
    if name == "small_cnn":  # the product trains small_cnn in bfloat16 where the CPU has it
        make("float32", policy="float32")
    return variants


def _policy(name: str, size: int) -> str:
    from core.training.precision import training_policy

    return training_policy("auto", size) if name == "small_cnn" else "float32"


def measure(name: str, size: int, images: int, repeats: int) -> dict:
    quiet_tensorflow()
    results = alternate(_variants(name, size, images), repeats)
    return {key: median(values) for key, values in results.items()} | {
        "ratios": {key: median(paired_ratios(results, key, "product")) for key in results}}


def _child_rate(name, size, images, env) -> float:
    code = ("import json,sys;from bench.common import quiet_tensorflow as q;tf=q();"
            "import os\n"
            "if os.environ.get('BENCH_THREADS'):\n"
            " tf.config.threading.set_intra_op_parallelism_threads(2);"
            "tf.config.threading.set_inter_op_parallelism_threads(1)\n"
            "from bench.models import *\n"
            f"m=compile_like_product(build({name!r},{size}));"
            f"fit_rate(m,memory_dataset({size},32,64),64)\n"
            f"print('RATE',max(fit_rate(m,memory_dataset({size},32,{images}),{images})"
            " for _ in range(2)))")
    result = run_child([sys.executable, "-c", code], env=env)
    for line in result["stdout"].splitlines():
        if line.startswith("RATE"):
            return float(line.split()[1])
    raise RuntimeError(result["stderr"][-2000:])


def run(quick: bool = False) -> list[dict]:
    cases = [("small_cnn", 150)] if quick else [("small_cnn", 150), ("mobilenet_v2", 224)]
    images = 128 if quick else 256
    repeats = 2
    rows = []
    for name, size in cases:
        figures = measure(name, size, images, repeats)
        ratios = figures.pop("ratios")
        best = max(ratios, key=ratios.get)
        rows.append(row(f"3 roof {name} {size}px: best/product", "adopt what helps (>1)",
                        figures[best], "img/s", ratios[best], None, best=best,
                        product_images_per_s=figures["product"], images_per_s=figures,
                        ratios=ratios))
        if "float32" in ratios:  # what adopting mixed_bfloat16 gave the product
            gain = 1 / ratios["float32"]
            rows.append(row(f"3 roof {name} {size}px: product ({_policy(name, size)})/float32",
                            "(report)", gain, "x", None, None, images_per_s=figures))
    # Settings fixed at TensorFlow start: child processes, alternated.
    name, size = cases[0]
    envs = {"default": {}, "onednn_off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
            "threads_2_1": {"BENCH_THREADS": "1"}}
    results = alternate({key: (lambda env=env: _child_rate(name, size, images, env))
                         for key, env in envs.items()}, 1)
    ratios = {key: median(paired_ratios(results, key, "default")) for key in envs}
    rows.append(row(f"3 roof {name} {size}px: start-up settings/default", "adopt what helps (>1)",
                    median(results[max(ratios, key=ratios.get)]), "img/s",
                    max(ratios.values()), None, best=max(ratios, key=ratios.get), ratios=ratios,
                    raw=results))
    return rows


if __name__ == "__main__":
    module_main(run)
