"""``mx.onnx``: export of a symbol and its parameters to ONNX through torch.onnx."""
from .exporter import export_model, export_net, onnx_output_names

__all__ = ["export_model", "export_net", "onnx_output_names"]
