"""Normalization and activation layers: InstanceNorm, LayerNorm, GroupNorm, L2Normalization,
LRN, LeakyReLU and the softmax family."""
