"""The name and shape properties shared by Module and TorchModule, which keep them in
``_data_names``, ``_label_names``, ``_output_names``, ``_data_shapes`` and
``_label_shapes`` (shapes only after bind)."""

__all__ = ["BoundNames"]


class BoundNames:
    """Mixin (before BaseModule in the bases) for BaseModule's name/shape properties."""

    @property
    def data_names(self):
        return self._data_names

    @property
    def label_names(self):
        return self._label_names

    @property
    def output_names(self):
        return self._output_names

    @property
    def data_shapes(self):
        self._require("data_shapes")
        return self._data_shapes

    @property
    def label_shapes(self):
        self._require("label_shapes")
        return self._label_shapes
