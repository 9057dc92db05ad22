#!/usr/bin/env python3
"""Writes the tiny ONNX models the tests and examples use, with the `onnx` package's
helper API (no training, no framework): `python3 make_models.py` in this folder.

power.onnx -- a 2-3-1 MLP regressor and a logistic fault scorer on (temp, vibration):
    x       = [temp, vibration]                      (N x 2)
    hidden  = relu(x @ W1 + b1)                      (N x 3)
    power   = hidden @ W2 + b2                       (N x 1)
    fault   = sigmoid(x @ W3 + b3)                   (N x 1)
Inputs `temp`, `vibration` and outputs `power`, `fault` are f32 of shape [N, 1], N the
batch. The weights are below (and repeated in runtime/tests/onnx.rs, which checks the
outputs against this math done by hand); they are binary fractions, so `power` is exact
in f32 for small inputs and a `test` block can expect it exactly.

power_one_row.onnx -- the same model with a fixed shape [1, 1]: Weir runs it one record
per call (the batch dimension is not symbolic).

wide.onnx -- one input `features` of shape [N, 3] and output `y` [N, 1]: a model whose
input is not one value per record, for the `weir check` diagnostic tests.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W1 = [[0.5, -0.25, 0.125], [1.0, 0.75, -0.5]]
B1 = [0.0, 0.25, 0.5]
W2 = [[1.5], [-2.0], [0.5]]
B2 = [3.0]
W3 = [[0.0625], [0.75]]
B3 = [-4.0]


def const(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def power_model(batch):
    nodes = [
        helper.make_node("Concat", ["temp", "vibration"], ["x"], axis=1),
        helper.make_node("MatMul", ["x", "W1"], ["h0"]),
        helper.make_node("Add", ["h0", "B1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["hidden"]),
        helper.make_node("MatMul", ["hidden", "W2"], ["p0"]),
        helper.make_node("Add", ["p0", "B2"], ["power"]),
        helper.make_node("MatMul", ["x", "W3"], ["f0"]),
        helper.make_node("Add", ["f0", "B3"], ["f1"]),
        helper.make_node("Sigmoid", ["f1"], ["fault"]),
    ]
    graph = helper.make_graph(
        nodes,
        "power",
        [
            helper.make_tensor_value_info("temp", TensorProto.FLOAT, batch),
            helper.make_tensor_value_info("vibration", TensorProto.FLOAT, batch),
        ],
        [
            helper.make_tensor_value_info("power", TensorProto.FLOAT, batch),
            helper.make_tensor_value_info("fault", TensorProto.FLOAT, batch),
        ],
        initializer=[
            const("W1", W1),
            const("B1", B1),
            const("W2", W2),
            const("B2", B2),
            const("W3", W3),
            const("B3", B3),
        ],
    )
    return graph


def wide_model():
    nodes = [
        helper.make_node("ReduceSum", ["features", "axes"], ["y"], keepdims=1),
    ]
    return helper.make_graph(
        nodes,
        "wide",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        initializer=[numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")],
    )


def save(graph, name):
    # Opset 13 and IR version 7: old enough for every ONNX runtime, tract included.
    model = helper.make_model(
        graph,
        producer_name="weir make_models.py",
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 7
    onnx.checker.check_model(model)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    onnx.save(model, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    save(power_model(["N", 1]), "power.onnx")
    save(power_model([1, 1]), "power_one_row.onnx")
    save(wide_model(), "wide.onnx")
