"""Exporting a trained run for use outside the app: SavedModel, LiteRT (float32, float16,
int8) and ONNX, each with its labels, a model.json, a standalone predict.py and a README,
checked against the run's .keras model on real pictures (core.export.exporter)."""
