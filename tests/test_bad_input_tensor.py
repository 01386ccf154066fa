"""Bad-input table, part 1: construction, Tensor arguments (sizes, axes, dtypes, indices),
comparisons and op inputs. Every row either raises a clear error naming the op and the argument,
or returns the exact right value (see tests/bad_input_table.py)."""

from __future__ import annotations

import numpy as np
import pytest
from bad_input_table import bad, check, good, params

import tinygrad_nn as tg

x = tg.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
i = tg.Tensor([1, 2, 3])


def _set_requires_grad(t: tg.Tensor, value: object) -> None:
    t.requires_grad = value


ROWS = [
    # ---- construction: data and dtypes
    bad("ragged list", lambda: tg.Tensor([[1, 2], [3]]), ValueError, "Tensor", "inhomogeneous"),
    bad("string data", lambda: tg.Tensor(["a", "b"]), TypeError, "Tensor", "<U1"),
    bad("numeric strings", lambda: tg.Tensor(["1.5"], dtype=np.float32), TypeError, "Tensor"),
    bad("None data", lambda: tg.Tensor(None), TypeError, "Tensor", "object"),
    bad("dict data", lambda: tg.Tensor({"a": 1}), TypeError, "Tensor", "dict"),
    bad("complex data", lambda: tg.Tensor([1 + 2j]), TypeError, "Tensor", "complex"),
    bad("object array", lambda: tg.Tensor(np.array([1, None])), TypeError, "Tensor", "object"),
    bad("uint8 300", lambda: tg.Tensor([300], dtype=np.uint8), ValueError, "Tensor", "[300]",
        "uint8"),
    bad("uint8 -1", lambda: tg.Tensor([-1], dtype=np.uint8), ValueError, "[-1]", "uint8"),
    bad("int8 128", lambda: tg.Tensor([128], dtype=np.int8), ValueError, "int8"),
    bad("nan to int64", lambda: tg.Tensor([np.nan], dtype=np.int64), ValueError, "nan", "int64"),
    bad("inf to int32", lambda: tg.Tensor([np.inf], dtype=np.int32), ValueError, "inf", "int32"),
    bad("1e30 to int32", lambda: tg.Tensor([1e30], dtype=np.int32), ValueError, "int32"),
    bad("ndarray nan to int", lambda: tg.Tensor(np.array([1.0, np.nan]), dtype="int64"),
        ValueError, "nan"),
    bad("bad dtype name", lambda: tg.Tensor([1.0], dtype="flaot32"), TypeError, "flaot32"),
    bad("complex dtype", lambda: tg.Tensor([1.0], dtype=np.complex64), TypeError, "complex64"),
    bad("str dtype", lambda: tg.Tensor([1.0], dtype=str), TypeError, "dtype"),
    good("float to int truncates as torch", lambda: tg.Tensor([2.7, -2.7], dtype=np.int64).data,
         np.array([2, -2])),
    good("uint8 255 fits", lambda: tg.Tensor([255], dtype=np.uint8).data,
         np.array([255], np.uint8)),
    good("int64 max fits", lambda: tg.Tensor([2**63 - 1], dtype=np.int64).data,
         np.array([2**63 - 1])),
    bad("float 2**63 to int64", lambda: tg.Tensor([2.0**63], dtype=np.int64), ValueError,
        "int64"),
    bad("astype nan to int", lambda: tg.Tensor([np.nan]).astype(np.int32), ValueError, "astype",
        "nan"),
    bad("astype 300 to uint8", lambda: i.astype(np.uint8) if False else
        tg.Tensor([300]).astype(np.uint8), ValueError, "astype", "uint8"),
    bad("astype bad dtype", lambda: x.astype("nope"), TypeError, "astype", "nope"),
    bad("astype 0-d nan to int", lambda: tg.Tensor(np.nan).astype(np.int64), ValueError,
        "astype", "nan"),
    good("astype 0-d", lambda: tg.Tensor(2.5).astype(np.int64).data, np.array(2)),
    bad("astype complex", lambda: x.astype(np.complex128), TypeError, "astype", "complex128"),
    bad("set_default_dtype int", lambda: tg.set_default_dtype(np.int32), TypeError, "int32"),
    bad("from_numpy list", lambda: tg.Tensor.from_numpy([1, 2]), TypeError, "from_numpy", "list"),
    # ---- requires_grad
    bad("requires_grad int ctor", lambda: tg.Tensor([1, 2], requires_grad=True), RuntimeError,
        "int64"),
    bad("requires_grad= int attribute", lambda: _set_requires_grad(tg.Tensor([1, 2]), True),
        RuntimeError, "int64"),
    bad("requires_grad bool tensor", lambda: tg.Tensor([True]).requires_grad_(), RuntimeError,
        "bool"),
    bad("requires_grad string", lambda: tg.Tensor([1.0]).requires_grad_("false"), TypeError,
        "requires_grad", "'false'"),
    bad("requires_grad= string", lambda: _set_requires_grad(tg.Tensor([1.0]), "yes"), TypeError,
        "requires_grad"),
    bad("requires_grad ctor string", lambda: tg.Tensor([1.0], requires_grad="false"), TypeError,
        "requires_grad"),
    bad("requires_grad_(False) non-leaf",
        lambda: (tg.Tensor([1.0], requires_grad=True) * 2).requires_grad_(False), RuntimeError,
        "non-leaf"),
    bad("retain_grad no grad", lambda: tg.Tensor([1.0]).retain_grad(), RuntimeError,
        "retain_grad"),
    # ---- sizes: one validator for every constructor and reshape
    bad("randn float size", lambda: tg.randn(2.5), TypeError, "randn", "2.5"),
    bad("rand float size", lambda: tg.rand(2, 2.0), TypeError, "rand", "float"),
    bad("zeros float size", lambda: tg.zeros(3.0), TypeError, "zeros", "3.0"),
    bad("ones str size", lambda: tg.ones("3"), TypeError, "ones", "'3'"),
    bad("zeros negative", lambda: tg.zeros(-1), ValueError, "zeros", "-1"),
    bad("ones negative in tuple", lambda: tg.ones((2, -3)), ValueError, "ones", "-3"),
    bad("randn bool size", lambda: tg.randn(True), TypeError, "randn", "bool"),
    bad("randn None size", lambda: tg.randn(None), TypeError, "randn", "None"),
    bad("zeros numpy float size", lambda: tg.zeros(np.float64(2.0)), TypeError, "zeros"),
    good("zeros numpy int size", lambda: tg.zeros(np.int64(2)).shape, (2,)),
    bad("zeros huge", lambda: tg.zeros(2**30, 2**30), ValueError, "zeros", "MAX_NUMEL"),
    bad("randn huge", lambda: tg.randn(10**13), ValueError, "randn", "elements"),
    bad("full float size", lambda: tg.full((2.5,), 1.0), TypeError, "full", "2.5"),
    bad("full str fill", lambda: tg.full((2,), "a"), TypeError, "Tensor"),
    bad("full nan into int dtype", lambda: tg.full((2,), np.nan, dtype=np.int32), ValueError,
        "full", "nan"),
    bad("eye float n", lambda: tg.eye(2.5), TypeError, "eye", "2.5"),
    bad("eye negative", lambda: tg.eye(-2), ValueError, "eye", "-2"),
    bad("bad dtype zeros", lambda: tg.zeros(2, dtype="float33"), TypeError, "zeros", "float33"),
    bad("arange zero step", lambda: tg.arange(0, 5, 0), ValueError, "arange", "step"),
    bad("arange nan stop", lambda: tg.arange(0, float("nan")), ValueError, "arange", "stop"),
    bad("arange inf", lambda: tg.arange(float("inf")), ValueError, "arange", "stop"),
    bad("arange string", lambda: tg.arange("5"), TypeError, "arange", "'5'"),
    bad("arange huge", lambda: tg.arange(0, 1e15, 1e-3), ValueError, "arange", "elements"),
    good("arange empty", lambda: tg.arange(5, 0).shape, (0,)),
    bad("reshape float", lambda: x.reshape(3.7, 2), TypeError, "reshape", "3.7"),
    bad("reshape str", lambda: x.reshape("a"), TypeError, "reshape", "'a'"),
    bad("reshape two -1", lambda: x.reshape(-1, -1), ValueError, "reshape", "-1"),
    bad("reshape -2", lambda: x.reshape(-2, 3), ValueError, "reshape", "-2"),
    bad("reshape wrong count", lambda: x.reshape(4, 2), ValueError, "reshape", "(2, 3)", "(4, 2)"),
    bad("reshape -1 indivisible", lambda: x.reshape(-1, 4), ValueError, "reshape", "(-1, 4)"),
    bad("reshape -1 with 0", lambda: x.reshape(0, -1), ValueError, "reshape"),
    bad("view float", lambda: x.view(6.0), TypeError, "reshape", "6.0"),
    bad("expand float", lambda: x.expand(2.0, 3), TypeError, "expand", "2.0"),
    bad("expand bad", lambda: x.expand(3, 3), ValueError, "expand", "(2, 3)"),
    bad("expand fewer dims", lambda: x.expand(3), ValueError, "expand"),
    # ---- axes: one normalizer
    bad("sum float axis", lambda: x.sum(axis=1.0), TypeError, "sum", "1.0"),
    bad("sum axis out of range", lambda: x.sum(axis=2), ValueError, "sum", "axis 2"),
    bad("sum axis -3", lambda: x.sum(axis=-3), ValueError, "sum", "-3"),
    bad("sum repeated axis", lambda: x.sum(axis=(0, 0)), ValueError, "sum", "repeated"),
    bad("sum repeated negative axis", lambda: x.sum(axis=(1, -1)), ValueError, "sum",
        "repeated"),
    bad("sum str axis", lambda: x.sum(axis="0"), TypeError, "sum", "'0'"),
    bad("sum bool axis", lambda: x.sum(axis=True), TypeError, "sum", "bool"),
    bad("sum float in tuple", lambda: x.sum(axis=(0, 1.0)), TypeError, "sum", "1.0"),
    bad("mean float axis", lambda: x.mean(axis=0.0), TypeError, "mean"),
    bad("mean axis 5", lambda: x.mean(axis=5), ValueError, "mean", "axis 5"),
    bad("max axis 5", lambda: x.max(axis=5), ValueError, "max", "axis 5"),
    bad("max float axis", lambda: x.max(axis=0.5), TypeError, "max"),
    bad("min axis 5", lambda: x.min(axis=5), ValueError, "max"),
    bad("var axis 3", lambda: x.var(axis=3), ValueError, "var"),
    bad("std float axis", lambda: x.std(axis=1.0), TypeError, "var"),
    bad("logsumexp axis 2", lambda: x.logsumexp(axis=2), ValueError, "logsumexp"),
    bad("softmax tuple axis", lambda: x.softmax(axis=(0, 1)), TypeError, "softmax", "(0, 1)"),
    bad("softmax axis 2", lambda: x.softmax(axis=2), ValueError, "softmax", "axis 2"),
    bad("softmax float axis", lambda: x.softmax(axis=1.0), TypeError, "softmax"),
    bad("log_softmax tuple axis", lambda: x.log_softmax(axis=(0,)), TypeError, "log_softmax"),
    bad("log_softmax axis -3", lambda: x.log_softmax(axis=-3), ValueError, "log_softmax"),
    bad("argmax axis 5", lambda: x.argmax(5), ValueError, "argmax", "axis 5"),
    bad("argmax float axis", lambda: x.argmax(1.0), TypeError, "argmax"),
    bad("argmin tuple axis", lambda: x.argmin((0, 1)), TypeError, "argmin"),
    bad("argmax empty", lambda: tg.zeros(0).argmax(), ValueError, "argmax", "empty"),
    bad("argmax keepdims str", lambda: x.argmax(0, keepdims="no"), TypeError, "keepdims"),
    bad("size 5", lambda: x.size(5), ValueError, "size", "axis 5"),
    bad("size float", lambda: x.size(1.0), TypeError, "size"),
    good("size -1", lambda: x.size(-1), 3),
    bad("permute wraps 5", lambda: x.permute(0, 5), ValueError, "permute", "5"),
    bad("permute repeated", lambda: x.permute(0, 0), ValueError, "permute"),
    bad("permute too few", lambda: x.permute(0), ValueError, "permute"),
    bad("permute float", lambda: x.permute(0, 1.0), TypeError, "permute"),
    good("permute negative", lambda: x.permute(-1, 0).shape, (3, 2)),
    bad("transpose axis 4", lambda: x.transpose(0, 4), ValueError, "swapaxes", "4"),
    bad("swapaxes float", lambda: x.swapaxes(0, 1.0), TypeError, "swapaxes"),
    bad("unsqueeze 4", lambda: x.unsqueeze(4), ValueError, "unsqueeze", "4"),
    bad("unsqueeze tuple", lambda: x.unsqueeze((0, 1)), TypeError, "unsqueeze"),
    good("unsqueeze -1", lambda: x.unsqueeze(-1).shape, (2, 3, 1)),
    bad("squeeze 2", lambda: x.squeeze(2), ValueError, "squeeze"),
    bad("flatten 3", lambda: x.flatten(3), ValueError, "flatten"),
    bad("flatten start after end", lambda: x.flatten(1, 0), ValueError, "flatten", "start_axis"),
    bad("cat axis 2", lambda: tg.cat([x, x], axis=2), ValueError, "cat", "axis 2"),
    bad("cat float axis", lambda: tg.cat([x, x], axis=0.0), TypeError, "cat"),
    bad("cat shapes", lambda: tg.cat([x, tg.ones(2, 2)]), ValueError, "cat", "(2, 3)", "(2, 2)"),
    bad("cat ndim", lambda: tg.cat([x, tg.ones(3)]), ValueError, "cat", "(3,)"),
    bad("cat empty", lambda: tg.cat([]), ValueError, "cat"),
    bad("stack shapes", lambda: tg.stack([x, tg.ones(3)]), ValueError, "stack"),
    bad("stack axis 4", lambda: tg.stack([x, x], axis=4), ValueError, "stack"),
    # ---- indexing
    bad("short bool mask", lambda: x[np.array([True])], IndexError, "mask", "(1,)", "(2,)"),
    bad("long bool mask", lambda: x[np.array([True, False, True])], IndexError, "mask"),
    bad("bool mask list short", lambda: x[[True]], IndexError, "mask"),
    bad("bool mask tensor short", lambda: x[tg.Tensor([True, False, True, True])], IndexError,
        "mask"),
    bad("bool mask second axis", lambda: x[:, np.array([True, False])], IndexError, "mask",
        "(3,)"),
    bad("2-D mask wrong", lambda: x[np.ones((3, 2), bool)], IndexError, "mask", "(3, 2)"),
    bad("mask after ellipsis", lambda: x[..., np.array([True])], IndexError, "mask"),
    good("mask right", lambda: x[np.array([False, True])].data, np.array([[4.0, 5.0, 6.0]],
                                                                         np.float32)),
    good("mask after ellipsis right", lambda: x[..., np.array([True, False, True])].shape,
         (2, 2)),
    good("2-D mask right", lambda: x[x > 3].data, np.array([4.0, 5.0, 6.0], np.float32)),
    bad("index out of bounds", lambda: x[5], IndexError, "getitem", "5"),
    bad("index float", lambda: x[1.5], TypeError, "getitem", "float"),
    bad("index str", lambda: x["a"], TypeError, "getitem", "str"),
    bad("index bool", lambda: x[True], TypeError, "getitem", "bool"),
    bad("index float array", lambda: x[np.array([0.0])], TypeError, "getitem", "float64"),
    bad("index too many", lambda: x[0, 0, 0], IndexError, "getitem"),
    bad("index list out of bounds", lambda: x[[0, 7]], IndexError, "getitem", "7"),
    # ---- comparisons
    bad("lt string", lambda: x < "a", TypeError, "<", "str"),
    bad("ge None", lambda: x >= None, TypeError, ">="),
    bad("gt list of str", lambda: x > ["a"], TypeError, ">"),
    bad("lt broadcast", lambda: x < np.ones(4), ValueError, "<", "(2, 3)", "(4,)"),
    bad("le broadcast tensor", lambda: x <= tg.ones(2), ValueError, "<=", "(2,)"),
    good("eq string is False", lambda: x == "a", False),
    good("ne string is True", lambda: x != "a", True),
    bad("eq broadcast", lambda: x == np.ones(4), ValueError, "==", "(4,)"),
    # ---- op inputs
    bad("add broadcast", lambda: x + tg.ones(4), ValueError, "add", "(2, 3)", "(4,)"),
    bad("mul broadcast", lambda: x * np.ones((3, 2)), ValueError, "mul", "(3, 2)"),
    bad("add string", lambda: x + "a", TypeError, "Tensor", "<U1"),
    bad("pow string", lambda: x ** "a", TypeError, "Tensor"),
    bad("matmul mismatch", lambda: x @ tg.ones(4, 2), ValueError, "matmul", "(2, 3)", "(4, 2)"),
    bad("matmul scalar", lambda: x @ 2.0, ValueError, "matmul", "0-D"),
    bad("clip none", lambda: x.clip(), ValueError, "clip"),
    bad("clip string", lambda: x.clip("a"), TypeError, "clip", "min"),
    bad("clip nan", lambda: x.clip(max=float("nan")), TypeError, "clip", "max"),
    bad("item of many", lambda: x.item(), ValueError, "item", "(2, 3)"),
    bad("bool of many", lambda: bool(x), ValueError, "ambiguous"),
    bad("len of 0-d", lambda: len(tg.Tensor(1.0)), TypeError, "0-d"),
    bad("max of empty", lambda: tg.zeros(0).max(), ValueError, "max", "empty"),
    bad("mean of empty", lambda: tg.zeros(0).mean(), ValueError, "mean", "empty"),
    bad("var ddof too big", lambda: x.var(axis=0, ddof=2), ValueError, "var", "ddof"),
    bad("where broadcast", lambda: tg.where(np.ones(4, bool), x, 0.0), ValueError, "where"),
]


@params(ROWS)
def test_bad_input_tensor(row):
    check(row)


def test_einsum_refuses_a_subscript_whose_sizes_disagree():
    # np.einsum would broadcast the size-1 'j' and return a different product without an error
    x = tg.Tensor(np.array([[1.0, -2.0, 3.0]]), requires_grad=True)
    with pytest.raises(ValueError, match=r"einsum: subscript 'j' has size 1 .* 3 .*\(1, 3\)"):
        tg.einsum("ij,jk->ik", x, x)


@pytest.mark.parametrize("loss, arg", [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_smooth_losses_refuse_a_negative_or_nan_threshold(loss, arg, value):
    x = tg.Tensor(np.array([[1.0, -2.0, 3.0]]))
    with pytest.raises(ValueError, match=f"{loss}: {arg} must"):
        getattr(tg.nn.functional, loss)(x, [[0.0, 0.0, 0.0]], **{arg: value})
