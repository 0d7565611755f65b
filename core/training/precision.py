"""Numeric precision of training: float32, or Keras's mixed_bfloat16 where the CPU has it.

With mixed_bfloat16 the layers compute in bfloat16 while their weights stay float32. On a CPU
with native bfloat16 instructions (AVX512_BF16 or AMX) that trains the from-scratch CNNs
about 1.5x faster from JPEG files here (small_cnn at 150 px on cats/dogs: 9 s epochs
instead of 12-20 s, the same accuracy; see bench/README.md). Without those instructions
TensorFlow emulates bfloat16 and it is slower, so "auto" only picks it when they exist.
The output layer always computes in float32 (core.models.output_layer), so probabilities and
losses keep their precision.
"""
from __future__ import annotations

import contextlib
import functools
from core.errors import ConfigError

PRECISIONS = ("auto", "float32", "mixed_bfloat16")
_NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@functools.lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (read from /proc/cpuinfo; False elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return bool(_NATIVE_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return False


# Below this input size training is bound by reading the images, not by the convolutions:
# LeNet at 32 px on traffic signs took 34.7 s in bfloat16 against 37.5 s in float32, and
# reached 0.905 against 0.913, so "auto" keeps float32 there.
MIN_BFLOAT16_IMAGE_SIZE = 64


def training_policy(precision: str = "auto", image_size: int | None = None) -> str:
    """The Keras dtype policy a from-scratch model trains with for a `precision` setting
    ("auto": mixed_bfloat16 on a CPU with native bfloat16 for inputs of 64 px or more)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"Received precision {precision!r}; expected one of: "
                         f"{', '.join(PRECISIONS)}.")
    if precision == "auto":
        large = image_size is None or image_size >= MIN_BFLOAT16_IMAGE_SIZE
        return "mixed_bfloat16" if native_bfloat16() and large else "float32"
    return precision


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under Keras's global dtype policy `name`; the previous one comes back
    after (layers keep the policy they were made with)."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
