"""Spatial ops of vision models: ROIPooling, GridGenerator, BilinearSampler,
SpatialTransformer, Correlation, UpSampling."""
