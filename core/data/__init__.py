"""Data: reading images, scanning dataset folders, splitting, the tf.data pipeline, augmentation."""
