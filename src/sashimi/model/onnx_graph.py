"""Writing an ONNX graph op by op and running it in onnxruntime on the CPU: what the MiniLM graph
(`minilm_onnx`) and the decoder step's graph (`onnx_step`) share."""

from __future__ import annotations

import numpy as np

INLINE_MAX = 1024  # elements: constants up to this size live in the graph (shape inference reads them)


class GraphBuilder:
    """Nodes and initialisers of an ONNX graph being written op by op (`const`, `op`), then `finish`ed.

    Large constants are not copied into the model: they are declared external initialisers, and
    `session` hands onnxruntime the arrays themselves (no megabytes serialised and parsed at start-up)."""

    def __init__(self) -> None:
        from onnx import TensorProto, helper, numpy_helper

        self.TensorProto, self.helper, self._numpy_helper = TensorProto, helper, numpy_helper
        self.nodes: list = []
        self.inits: list = []
        self.external: dict[str, np.ndarray] = {}
        self._names: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        """A constant tensor named `name` (a name given twice is the same constant)."""
        if name in self._names:
            return name
        self._names.add(name)
        value = np.ascontiguousarray(value)
        if value.size <= INLINE_MAX:
            self.inits.append(self._numpy_helper.from_array(value, name))
            return name
        dtype = self.helper.np_dtype_to_tensor_dtype(value.dtype)
        tensor = self.TensorProto(
            name=name, data_type=dtype, dims=value.shape, data_location=self.TensorProto.EXTERNAL
        )
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "memory"  # never read: `session` supplies the array
        self.inits.append(tensor)
        self.external[name] = value
        return name

    def op(self, kind: str, inputs: list[str], out: str, **attrs) -> str:
        self.nodes.append(self.helper.make_node(kind, inputs, [out], **attrs))
        return out

    def finish(self, name: str, inputs: list[tuple], outputs: list[tuple], opset: int) -> tuple[bytes, dict]:
        """(the serialised model, its external weights); inputs / outputs as (name, element type, shape)."""
        info = self.helper.make_tensor_value_info
        graph = self.helper.make_graph(
            self.nodes, name, [info(*i) for i in inputs], [info(*o) for o in outputs], self.inits
        )
        model = self.helper.make_model(graph, opset_imports=[self.helper.make_opsetid("", opset)])
        model.ir_version = 10
        return model.SerializeToString(), self.external


def session(graph: bytes, weights: dict[str, np.ndarray], threads: int):
    """An onnxruntime session on the CPU with `threads` intra-op threads (the generator's one), reading
    the external initialisers from `weights` in place (the caller keeps the arrays alive)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    names = list(weights)
    options.add_external_initializers(names, [ort.OrtValue.ortvalue_from_numpy(weights[n]) for n in names])
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # warnings about unused initialisers etc. are not the user's business
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
