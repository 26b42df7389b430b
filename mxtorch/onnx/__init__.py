"""``mx.onnx``: export of a symbol and its parameters to ONNX through torch.onnx."""
