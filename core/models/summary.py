"""A model's Keras summary as text (for summary.txt)."""
from __future__ import annotations


def model_summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=100)
    return "\n".join(lines)
