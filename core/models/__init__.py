"""Models: one registry of scratch nets, pretrained backbones and fusions; building them; weights."""
