"""Smoke test of an installed wheel (run by .ci/run from outside the checkout).

Fails if tinygrad_nn is imported from a source tree instead of site-packages, if any module of
the package is missing from the wheel (each one is imported), if py.typed is missing, or if a
small train / save / load round trip does not work.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
from pathlib import Path

import numpy as np

import tinygrad_nn as tg

package = Path(tg.__file__).resolve().parent
if "site-packages" not in package.parts:
    sys.exit(f"tinygrad_nn was imported from {package}, not from an installed wheel")
# the optional extras (torch, onnx, tqdm, ...) are imported lazily: every module must import
modules = [m.name for m in pkgutil.walk_packages(tg.__path__, "tinygrad_nn.")
           if m.name != "tinygrad_nn.__main__"]  # that one runs the command line
for name in modules:
    importlib.import_module(name)
if not (package / "py.typed").is_file():
    sys.exit("py.typed is missing from the wheel")

X, y = tg.data.make_moons(200, noise=0.1, seed=0)
model = tg.nn.build("2-16-2:tanh", dtype=np.float64, generator=0)
adam = tg.optim.Adam(model.parameters(), lr=0.05)
history = tg.train.fit(model, "cross_entropy", adam, (X, y), epochs=20, batch_size=20, seed=0,
                       progress=False, log=None)
accuracy = tg.train.evaluate(model, X, y)["accuracy"]
if accuracy < 0.85:
    sys.exit(f"the smoke model trained to only {accuracy:.2%} on two moons")
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "smoke.safetensors"
    tg.save(path, model, adam)
    again = tg.load(path).model
    if not np.array_equal(again(tg.Tensor(X)).data, model(tg.Tensor(X)).data):
        sys.exit("a checkpoint round trip changed the model's outputs")
print(f"wheel smoke test OK: {len(modules)} modules import from {package}; "
      f"two moons {accuracy:.1%}; checkpoint round trip exact")
