"""The files of a run folder, and its format version."""
from __future__ import annotations


CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
HISTORY_FILE = "history.csv"
BEST_MODEL = "best.keras"
FINAL_MODEL = "final.keras"
SUMMARY_FILE = "summary.txt"
LAST_MODEL = "last.keras"  # the model after the last finished epoch, with its optimizer (resume)
CHECKPOINT_INFO = "ics_checkpoint.json"  # inside last.keras: which epoch it holds
LOCK_FILE = ".training.lock"  # held (flock) by the process training into the folder
RUN_FORMAT_VERSION = 1
# The largest input size: beyond it one picture alone takes 200 MB as float32, a typing error.
# Training refuses larger sizes, and reopening a run refuses them too.
MAX_IMAGE_SIZE = 4096
OLDEST_FORMAT_VERSION = 1


MAX_CONFIG_BYTES = 16 * 2**20  # a model's config.json is kilobytes; more is not a model of ours
