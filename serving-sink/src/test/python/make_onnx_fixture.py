#!/usr/bin/python3
"""Writes serving-sink's ONNX test fixture and the scores it must give.

A logistic regression over four inputs, in the order the model expects them:
  score = sigmoid(x . W + b)
as an ONNX graph MatMul -> Add -> Sigmoid, input 'input' float[N, 4], output 'score' float[N, 1].
The same file is what a scikit-learn or PyTorch exporter would hand to Flywheel: a plain ONNX
model whose signature (feature names and order) travels separately in the registry.

Run from the repository root (needs python3-onnx and python3-numpy, e.g. the Debian packages):
  /usr/bin/python3 serving-sink/src/test/python/make_onnx_fixture.py
It rewrites serving-sink/src/test/resources/models/logreg.onnx and logreg-expected.json
byte for byte the same each time.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "models")
FEATURES = ["amount", "count_10m", "mean_7d", "velocity"]
W = np.array([[0.8], [-0.35], [0.02], [1.5]], dtype=np.float32)
B = np.array([-1.25], dtype=np.float32)
ROWS = np.array([
    [0.0, 0.0, 0.0, 0.0],
    [1.0, 2.0, 3.0, 0.5],
    [12.5, 1.0, 40.0, -0.25],
    [-3.0, 7.0, 0.0, 2.0],
    [0.125, 0.0, 100.0, 0.0],
], dtype=np.float32)


def main():
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "W"], ["logit_raw"], name="matmul"),
            helper.make_node("Add", ["logit_raw", "B"], ["logit"], name="add"),
            helper.make_node("Sigmoid", ["logit"], ["score"], name="sigmoid"),
        ],
        "flywheel_logreg",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, len(FEATURES)])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [None, 1])],
        initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")],
    )
    model = helper.make_model(graph, producer_name="flywheel-test-fixture",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "logreg.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    logits = ROWS.astype(np.float64) @ W.astype(np.float64) + B.astype(np.float64)
    scores = 1.0 / (1.0 + np.exp(-logits))
    with open(os.path.join(OUT, "logreg-expected.json"), "w") as f:
        json.dump({"features": FEATURES, "rows": ROWS.tolist(),
                   "scores": [float(s) for s in scores[:, 0]]}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
