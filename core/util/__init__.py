"""Small helpers every layer may use: atomic writes, progress events, TensorFlow loading."""
