"""Transfer learning: options, feature cache and heads, and the bottleneck / frozen / finetune / fusion modes."""
