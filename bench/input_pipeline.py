"""1. Input pipeline efficiency: JPEG files + default augmentation vs in-memory tensors.

Same model, same batch size; the two feeds alternate (A B B A ...) and the reported figure is
the median of the per-repeat ratios. Goal: at least 0.95 for small_cnn at 150 px and
mobilenet_v2 (alpha 0.35, frozen) at 224 px.
"""
from __future__ import annotations

from bench.common import alternate, median, module_main, paired_ratios, quiet_tensorflow, row
from bench.models import build, compile_like_product, fit_rate, jpeg_dataset, memory_dataset

CASES = (("small_cnn", 150), ("mobilenet_v2", 224))


def run(quick: bool = False) -> list[dict]:
    quiet_tensorflow()
    batch = 32
    images = 128 if quick else 384
    repeats = 2 if quick else 3
    rows = []
    for name, size in CASES:
        model = compile_like_product(build(name, size))
        images_eff = images // batch * batch
        jpeg = lambda: jpeg_dataset(size, batch, images_eff)  # noqa: E731
        memory = lambda: memory_dataset(size, batch, images_eff)  # noqa: E731
        fit_rate(model, memory_dataset(size, batch, batch * 2), batch * 2)  # compile
        fit_rate(model, jpeg(), images_eff)  # warm the pipeline functions
        results = alternate({"jpeg": lambda: fit_rate(model, jpeg(), images_eff),
                             "memory": lambda: fit_rate(model, memory(), images_eff)}, repeats)
        ratio = median(paired_ratios(results, "jpeg", "memory"))
        label = f"{name} frozen" if name != "small_cnn" else name
        rows.append(row(f"1 pipeline/roof {label} {size}px", ">= 0.95", ratio, "x", ratio,
                        ratio >= 0.95, jpeg_images_per_s=median(results["jpeg"]),
                        memory_images_per_s=median(results["memory"]), batch=batch,
                        images=images_eff, repeats=repeats, raw=results))
    return rows


if __name__ == "__main__":
    module_main(run)
