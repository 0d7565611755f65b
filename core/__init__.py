"""Image Classifier Studio engine: datasets, augmentation, models, training, evaluation, prediction.

Nothing here imports Qt. TensorFlow is imported lazily by the modules that need it, so
`import core` and dataset inspection stay fast.
"""
import os

# TensorFlow's C++ start-up chatter means nothing to our users; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
