"""Memory bombs: a hostile checkpoint costs no more memory than an honest one of its size.

Two files of issue 11, each loaded in a child process whose address space is capped (so a
regression cannot take the shared machine down) and whose peak memory is measured:

- a 4 MB ``.npz`` holding one deflated member that expands to 4 GiB of zeros (its header
  honest about the size): refused from the member's array header, before decompressing;
- a 1 KB checkpoint whose spec declares 900M parameters: refused before ``nn.build``.

An implementation that reads first would die of MemoryError under the cap (or, uncapped,
allocate gigabytes): the tests check for the specific refusal and for a small peak.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg

REPO_ROOT = Path(__file__).resolve().parents[1]
GiB = 2**30
CHUNK = 16 * 2**20

_CHILD = """
import json, resource, sys
import tinygrad_nn as tg
from tinygrad_nn import checkpoint
def vm(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
base = vm("VmSize:")
resource.setrlimit(resource.RLIMIT_AS, (base + 2**30, base + 2**30))  # +1 GiB at most
rss_before = vm("VmHWM:")
results = {}
for name, call in [("load", lambda p: tg.load(p)),
                   ("load_state_dict", checkpoint.load_state_dict),
                   ("into_small_model", lambda p: tg.load(p, tg.nn.build("2-2")))]:
    try:
        call(sys.argv[1])
        results[name] = "loaded"
    except Exception as e:
        results[name] = f"{type(e).__name__}: {e}"
results["peak_growth"] = vm("VmHWM:") - rss_before
print(json.dumps(results))
"""


def _load_in_capped_child(path: Path) -> dict[str, Any]:
    env = {"PYTHONPATH": str(REPO_ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


class _ReplayZeros:
    """A deflate 'compressor' for zipfile that replays one precompressed 16 MiB block of
    zeros: 4 GiB of honest deflate data in milliseconds (each block is flushed to a byte
    boundary with an empty dictionary, so identical blocks compress to identical bytes)."""

    def __init__(self) -> None:
        self._c = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._block = b""

    def compress(self, data: bytes) -> bytes:
        if len(data) != CHUNK or any(data[:64]):
            return self._c.compress(data) + self._c.flush(zlib.Z_FULL_FLUSH)
        if not self._block:
            self._block = self._c.compress(data) + self._c.flush(zlib.Z_FULL_FLUSH)
        return self._block

    def flush(self) -> bytes:
        return self._c.flush()


def _npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz_bomb(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = [65536, 8192]  # 0.weight: (8192, 65536) float64 = 4 GiB
    shape = (sizes[1], sizes[0])
    header = {"format": "tinygrad_nn.checkpoint", "version": 1, "kind": "checkpoint",
              "library": {}, "extra": None, "optimizer": None,
              "model": {"class": "MLP", "spec": {"sizes": sizes, "activation": "relu"},
                        "tensors": {
                            "0.weight": {"key": "model/0.weight", "dtype": "float64",
                                         "shape": list(shape)},
                            "0.bias": {"key": "model/0.bias", "dtype": "float64",
                                       "shape": [sizes[1]]}}}}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__header__.npy", _npy(np.frombuffer(json.dumps(header).encode(),
                                                              np.uint8)))
        archive.writestr("model/0.bias.npy", _npy(np.zeros(sizes[1])))
        # NOTE: the CRC is not computed (4 GiB of hashing): the member is refused unread, and
        # a reader that reads it allocates the 4 GiB before ever reaching the CRC check.
        monkeypatch.setattr(zipfile, "crc32", lambda data, value=0: value)
        monkeypatch.setattr(zipfile, "_get_compressor", lambda *a, **k: _ReplayZeros())
        with archive.open("model/0.weight.npy", "w", force_zip64=True) as member:
            member.write(_npy_header(shape))
            zeros = bytes(CHUNK)
            for _ in range(shape[0] * shape[1] * 8 // CHUNK):
                member.write(zeros)
        monkeypatch.undo()


def _npy_header(shape: tuple[int, ...]) -> bytes:
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()  # magic string included


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_small_npz_expanding_to_4_gib_is_refused_unread(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    path = tmp_path / "bomb.npz"
    _npz_bomb(path, monkeypatch)
    assert path.stat().st_size < 8 * 2**20
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("model/0.weight.npy").file_size > 4 * GiB
    results = _load_in_capped_child(path)
    for name in ("load", "load_state_dict"):
        assert "refused unread as a decompression bomb" in results[name], results
    assert "refused unread as a decompression bomb" in results["into_small_model"], results
    assert results["peak_growth"] < 64 * 2**20, results


SPEC_BOMBS = {
    "mlp": {"sizes": [30000, 30000]},
    "conv": {"layers": [{"type": "Conv2d", "in": 30000, "out": 30000, "kernel_size": 1},
                        {"type": "Linear", "in": 2, "out": 2}]},
}


def _spec_bomb(path: Path, spec: dict) -> None:
    """A real 1-layer checkpoint whose spec is rewritten to declare 900M parameters."""
    small = tg.nn.build("2-2")
    tg.save(path, small)
    from test_checkpoint import _read_raw, _write_raw

    metadata, tensors = _read_raw(path)
    model = json.loads(metadata["model"])
    model["spec"] = spec
    metadata["model"] = json.dumps(model)
    _write_raw(path, metadata, tensors)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("spec", SPEC_BOMBS.values(), ids=SPEC_BOMBS.keys())
def test_a_1_kb_file_whose_spec_declares_900m_parameters_is_refused_before_building(
    tmp_path: Path, spec: dict,
) -> None:
    path = tmp_path / "spec_bomb.safetensors"
    _spec_bomb(path, spec)
    assert path.stat().st_size < 2048
    results = _load_in_capped_child(path)
    assert re.search(r"declares at least 90000000\d parameters but the file holds 6 values",
                     results["load"]), results
    assert results["load_state_dict"] == "loaded"  # only tensors: nothing is built
    assert results["peak_growth"] < 64 * 2**20, results


def test_a_spec_whose_size_cannot_be_bounded_is_not_built(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from tinygrad_nn.checkpoint import header

    monkeypatch.delitem(header._LOWER_BOUNDS, "conv2d")  # as for a layer added later
    path = tmp_path / "conv.safetensors"
    _spec_bomb(path, SPEC_BOMBS["conv"])
    with pytest.raises(tg.checkpoint.CheckpointError, match="has a Conv2d layer, whose size "
                                                           "cannot be checked before building"):
        tg.load(path)


def test_the_spec_bound_never_exceeds_an_honest_models_size() -> None:
    from tinygrad_nn.checkpoint.header import spec_size_lower_bound

    for spec in ["784-30-10:sigmoid", "4-6-3:tanh,batchnorm,nobias", "5-7-7-2:relu,dropout=0.5",
                 {"layers": [{"type": "Maxout", "in": 5, "out": 4, "pieces": 3},
                             {"type": "BatchNorm1d", "num_features": 4},
                             {"type": "linear", "in": 4, "out": 2, "bias": False},
                             {"type": "MLP", "sizes": [2, 3, 2]}]},
                 {"layers": [{"type": "Conv2d", "in": 4, "out": 6, "kernel_size": [3, 2],
                              "groups": 2},
                             {"type": "BatchNorm2d", "num_features": 6, "affine": False},
                             {"type": "Conv1d", "in": 6, "out": 3, "kernel_size": 5}]}]:
        model = tg.nn.build(spec)
        held = sum(a.size for a in model.state_dict().values())
        bound = spec_size_lower_bound(model.spec())
        assert 0 < bound <= held, (spec, bound, held)
        assert bound >= sum(p.data.size for p in model.parameters()) // 2, (spec, bound)
    assert spec_size_lower_bound({"layers": [{"type": "BatchNorm2d", "num_features": 5,
                                              "affine": False, "track_running_stats": False}]}
                                 ) == 0
