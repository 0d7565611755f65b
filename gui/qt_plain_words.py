"""Engine sentences said for people who use the app, not the command line.

The engine's errors (`core.errors.StudioError`) name command-line flags, because the same
sentence serves `python main.py`: "pass --weights FILE once", "(--which final)". In the app
there are no flags, so `plain_message` says the same thing with the names of the app's own
controls, and drops what only a programmer can read (Keras object descriptions).
"""
from __future__ import annotations

import re

FLAG_WORDS = {
    "weights": "the weights file", "alpha": "the network width", "model": "the model",
    "mode": "the way it learns", "epochs": "the number of epochs", "out": "the run folder",
    "from-run": "the run to continue", "image-size": "the input size", "size": "the size",
    "batch-size": "the batch size", "lr": "the learning rate", "optimizer": "the optimizer",
    "augment": "the augmentation", "val-split": "the share kept aside",
    "test-split": "the share kept for the test", "seed": "the random seed",
    "head": "the classifier on top", "pooling": "the way features are summed up",
    "fusion-base": "the base networks", "finetune-epochs": "the fine-tuning epochs",
    "fine-tune-lr": "the fine-tuning learning rate", "unfreeze": "the layers to retrain",
    "dropout": "the dropout", "early-stopping": "early stopping",
    "class-weights": "class balancing", "cache-dir": "the cache folder",
    "which": "the model file", "resume": "resuming", "config": "the settings",
}

def _capital(words: str) -> str:
    return words[:1].upper() + words[1:]


_RULES = (
    # "(--which final)" / "; try that one (--which best)": the app opens the right file itself.
    (re.compile(r"\s*\(--which \w+\)"), ""),
    (re.compile(r"\bpass --weights (?:FILE|PATH|\S+) once\b"),
     "choose a weights file once with \u201cChoose a weights file\u2026\u201d in step 3"),
    (re.compile(r"\b(?:pass|give) --epochs with a larger total \(e\.g\. --epochs (\d+)\)"),
     r"choose more epochs in total (for example \1)"),
    (re.compile(r"\b[Pp]ass --model (\S+?) --alpha ([\d.]+)"),
     r"choose the model \1 with network width \2"),
    (re.compile(r"\b[Pp]ass --model (\S+?)(?=[;,]|\.?\s|\.?$)"), r"choose the model \1"),
    (re.compile(r"\b[Pp]ass --alpha ([\d.]+)"), r"choose network width \1"),
    (re.compile(r"\bleave out --model\b"), "choose \u201cRecommended\u201d"),
    (re.compile(r"\bPass the --out folder of a training run\b"),
     "Choose the folder of a training run"),
    (re.compile(r"\bReceived --([a-z][a-z-]*) (\S+?)(?=[;,]|\.?\s|\.?$)"),
     lambda m: f"{_capital(FLAG_WORDS.get(m.group(1), m.group(1).replace('-', ' ')))} "
               f"{m.group(2)} was chosen"),
    # Keras object descriptions: "<Conv2D name=Conv1, built=True>"
    (re.compile(r"<\w+ name=([^,>]+)[^>]*>"), r"the layer \1"),
    (re.compile(r"\b[Pp]ass --([a-z][a-z-]*)"),
     lambda m: f"set {FLAG_WORDS.get(m.group(1), m.group(1).replace('-', ' '))}"),
    (re.compile(r"--([a-z][a-z-]*)"),
     lambda m: FLAG_WORDS.get(m.group(1), m.group(1).replace("-", " "))),
)


def plain_message(text: str) -> str:
    """`text` with command-line flags turned into the app's words."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s{2,}", " ", text).strip()
