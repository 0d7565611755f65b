"""Inference: prediction, heatmaps (CAM, Grad-CAM) and evaluation of a run."""
