"""How sure an accuracy is: its 95% Wilson score interval from the number of pictures, and
a plain sentence when the model is barely better than guessing.

An accuracy measured on 50 validation pictures can be off by 10 points or more; the interval
says how far. Wilson's interval (not the normal approximation) stays inside [0, 1] and
behaves for small counts and for accuracies near 0 or 1.

"Barely better than guessing" compares the interval's lower bound with the best a model
that ignores the picture could do: always answering the most common class (the
majority-class rate), which is at least 1/num_classes.
"""
from __future__ import annotations

import math

Z_95 = 1.959963984540054  # two-sided 95% quantile of the standard normal distribution


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion ``correct / total``; (0, 1) when total is 0."""
    if total <= 0:
        return 0.0, 1.0
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def assess_accuracy(accuracy: float, total: int, class_counts: dict[str, int]) -> dict:
    """Accuracy on ``total`` pictures whose true classes are counted in ``class_counts``.

    Returns a JSON-ready dict: ``interval`` [low, high], ``majority_class``, ``majority_rate``,
    ``uniform_rate`` (1 / number of classes), ``barely_better`` (the interval's lower bound
    is not above the majority-class rate), ``verdict`` (the sentence saying so, else "") and
    ``text``: what a person reads, e.g. "90.0% right on 100 pictures (95% interval: 82.6% to
    94.5%)." followed by the verdict.
    """
    correct = int(round(accuracy * total))
    low, high = wilson_interval(correct, total)
    counts = {label: int(count) for label, count in class_counts.items()}
    majority_class = max(sorted(counts), key=lambda label: counts[label]) if counts else None
    majority_rate = counts[majority_class] / total if majority_class and total else 0.0
    uniform_rate = 1 / len(counts) if counts else 0.0
    majority_rate = max(majority_rate, uniform_rate)  # counts may not add up to total
    barely = total > 0 and low <= majority_rate
    verdict = _barely_sentence(accuracy, majority_class, majority_rate, total, low) if barely else ""
    text = (f"{accuracy:.1%} right on {_pictures(total)} "
            f"(95% interval: {low:.1%} to {high:.1%}).") + (" " + verdict if verdict else "")
    return {"interval": [round(low, 4), round(high, 4)], "majority_class": majority_class,
            "majority_rate": round(majority_rate, 4), "uniform_rate": round(uniform_rate, 4),
            "barely_better": bool(barely), "verdict": verdict, "text": text}


def _barely_sentence(accuracy, majority_class, majority_rate, total, low) -> str:
    # Always-the-biggest-class is the stronger of the two baselines (>= 1/num_classes), so it
    # is the one named; with balanced classes it is 1/num_classes anyway.
    guess = (f"guessing '{majority_class}' for every picture ({majority_rate:.0%} of these "
             "pictures are of that class)")
    if accuracy <= majority_rate + 0.5 / max(total, 1):  # same count (float32 accuracies)
        head = f"This model is no better than {guess}"
    else:
        head = (f"This model is barely better than {guess}: with {_pictures(total)} its "
                f"accuracy could be as low as {low:.0%}")
    advice = ("More pictures per class, a pretrained network or more training usually help"
              + ("; a larger validation set narrows the interval." if total < 200 else "."))
    return f"{head}. {advice}"


def _pictures(count: int) -> str:
    return f"{count} picture" if count == 1 else f"{count:,} pictures"


UNSURE_SHARE = 0.3  # of the way from guessing (1/num_classes) to certainty


def is_unsure(probability: float, num_classes: int) -> bool:
    """True when a prediction's top probability is close to guessing: less than 30% of the
    way from chance (1/num_classes) to 100%. With 2 classes that is under 65%, with 10
    classes under 37%."""
    chance = 1 / max(2, int(num_classes))
    return probability < chance + UNSURE_SHARE * (1 - chance)
