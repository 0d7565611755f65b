"""Augmentation with Keras 2 `ImageDataGenerator` meaning: config, presets, Keras 3 layers, previews."""
