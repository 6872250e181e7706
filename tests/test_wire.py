"""The grader/student channel: values, proxies, arrays, and what it refuses.

Both ends run here, the student end served by a thread, so these tests are
fast; what depends on the sandbox is in ``test_student_process.py``.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

import numpy as np
import pytest
import torch

from dlnotes.checks import inplace, is_inplace
from dlnotes_course import codec
from dlnotes_course.wire import (
    MAX_FLAG_CHARS,
    MAX_FLAGS,
    MAX_MESSAGE,
    ChannelClosed,
    GraderChannel,
    ProtocolError,
    Proxy,
    StudentChannel,
    StudentError,
)


class Pair:
    """A grader end and a student end served by a thread, with a student namespace."""

    def __init__(self, writable=is_inplace):
        a, b = socket.socketpair()
        self.grader, self.student = GraderChannel(a, writable=writable), StudentChannel(b)
        self.ns: dict = {}
        self.student.on_request = self._on_request
        threading.Thread(target=self._serve, daemon=True).start()

    def _on_request(self, op, msg, decode):
        if op == "define":
            exec(decode(msg["code"]), self.ns)
            return {k: v for k, v in self.ns.items() if not k.startswith("__")}
        return NotImplemented

    def _serve(self):
        while True:
            try:
                msg, bufs = self.student.recv()
            except (ChannelClosed, OSError):
                return
            self.student.serve_one(msg, bufs)

    def define(self, code: str) -> dict:
        return self.grader.request("define", code=code)

    def close(self):
        self.grader.sock.close()


@pytest.fixture
def pair():
    p = Pair()
    yield p
    p.close()


def test_plain_values_cross_by_value(pair):
    echo = pair.define("def echo(x):\n    return x\n")["echo"]
    assert isinstance(echo, Proxy) and echo.__name__ == "echo"
    value = {"a": (1, 2.5, None, True), "b": [np.float32(1.5), 3 + 4j, b"raw", "text"],
             (1, 2): float("nan"), "c": complex(float("inf"), float("nan")), "s": slice(1, None),
             "e": ..., "long": "x" * (codec.LONG_STRING + 5) + "\u00e9"}
    got = echo(value)
    assert got["a"] == (1, 2.5, None, True)
    assert type(got["b"][0]) is np.float32 and got["b"][1:] == [3 + 4j, b"raw", "text"]
    assert np.isnan(got[(1, 2)]) and np.isinf(got["c"].real) and np.isnan(got["c"].imag)
    assert got["s"] == slice(1, None) and got["e"] is Ellipsis and got["long"] == value["long"]
    x = np.arange(12.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(echo(x), x)


def test_homogeneous_number_lists_are_packed_and_exact(pair):
    echo = pair.define("def echo(x):\n    return x\n")["echo"]
    for value in (list(range(-5, 200_000)), [0.1 * i for i in range(50)], [True, False] * 20,
                  tuple(range(100)), [2 ** 70] * 20, [1, True] * 10, [1, 2.0] * 10):
        got = echo(value)
        assert got == value and type(got) is type(value)
        assert [type(v) for v in got] == [type(v) for v in value]
    start = time.monotonic()
    with pytest.raises(ValueError, match="too long to send"):
        pair.define("def big():\n    return list(range(3_000_000))\n")["big"]()
    assert time.monotonic() - start < 5


def test_marked_arrays_are_updated_in_place_and_keep_their_identity(pair):
    names = pair.define("class SGD:\n"
                        "    def __init__(self, params, lr):\n"
                        "        self.params, self.lr = params, lr\n"
                        "    def step(self, grads):\n"
                        "        for p, g in zip(self.params, grads):\n"
                        "            p -= self.lr * g\n"
                        "    def same(self, p):\n"
                        "        return p is self.params[0]\n")
    W, b = inplace(np.ones((2, 2)), np.zeros(2))
    opt = names["SGD"]([W, b], lr=0.5)
    for _ in range(3):
        opt.step([np.ones((2, 2)), np.ones(2)])
    np.testing.assert_allclose(W, -0.5)
    np.testing.assert_allclose(b, -1.5)
    assert opt.same(W)          # the student's optimizer still holds the same array
    opt.lr = 0.1
    assert opt.lr == 0.1
    W[:] = 10.0                 # a change on the grader's side reaches the student's copy
    opt.step([np.ones((2, 2)), np.zeros(2)])
    np.testing.assert_allclose(W, 9.9)
    np.testing.assert_allclose(b, -1.5)


def test_unmarked_arrays_never_change_under_the_test(pair):
    names = pair.define("import numpy as np\n"
                        "def precision(t, p):\n"
                        "    t[:] = 0\n    p *= 0\n    return 0.0\n"
                        "class Keep:\n"
                        "    def __init__(self, a):\n        self.a = a\n"
                        "    def spoil(self):\n        self.a[:] = -1\n")
    t, p = np.array([1, 0, 1, 1]), np.array([1.0, 1.0, 0.0, 1.0])
    assert names["precision"](t, p) == 0.0
    np.testing.assert_array_equal(t, [1, 0, 1, 1])
    np.testing.assert_array_equal(p, [1.0, 1.0, 0.0, 1.0])
    a = np.ones(3)
    keeper = names["Keep"](a)
    keeper.spoil()
    np.testing.assert_array_equal(a, 1.0)


def test_returned_arrays_are_fresh(pair):
    names = pair.define("import numpy as np\n"
                        "class Holder:\n"
                        "    def __init__(self):\n        self.w = np.zeros(3)\n"
                        "    def get(self):\n        return self.w\n"
                        "    def bump(self):\n        self.w += 1\n"
                        "def same(p):\n    return p\n")
    holder = names["Holder"]()
    first = holder.get()
    holder.bump()
    np.testing.assert_array_equal(first, 0.0)   # a later call never mutates what the test holds
    np.testing.assert_array_equal(holder.get(), 1.0)
    w = inplace(np.ones(2))
    back = names["same"](w)
    assert back is not w and is_inplace(w) and not is_inplace(back)


def test_arrays_a_student_passes_to_a_test_callback_come_back_changed(pair):
    names = pair.define("import numpy as np\n"
                        "def run(fill):\n"
                        "    x = np.zeros(3)\n    fill(x)\n    return x\n")

    def fill(x):
        x[:] = 7.0

    np.testing.assert_array_equal(names["run"](fill), 7.0)


def test_random_generators_cross_as_copies_in_the_same_state(pair):
    draw = pair.define("def draw(rng, n):\n    return rng.random(n)\n")["draw"]
    np.testing.assert_array_equal(draw(np.random.default_rng(7), 5),
                                  np.random.default_rng(7).random(5))


def test_a_generator_a_student_passes_to_a_test_callback_comes_back_advanced(pair):
    # generate(..., sample_fn, seed): the student's one generator, drawn from by the test
    names = pair.define("import numpy as np\n"
                        "def run(sample, n, seed):\n"
                        "    rng = np.random.default_rng(seed)\n"
                        "    return [sample(rng) for _ in range(n)] + [float(rng.random())]\n"
                        "def fresh_each_time(sample, n, seed):\n"
                        "    return [sample(np.random.default_rng(seed)) for _ in range(n)]\n")
    local = np.random.default_rng(3)
    expected = [int(local.integers(0, 1000)) for _ in range(4)] + [float(local.random())]
    assert names["run"](lambda rng: int(rng.integers(0, 1000)), 4, 3) == expected
    again = names["fresh_each_time"](lambda rng: int(rng.integers(0, 1000)), 3, 3)
    assert again == [expected[0]] * 3
    # a generator the test hands to an answer stays a copy: the test's own does not move
    draw = pair.define("def draw(rng):\n    return rng.random()\n")["draw"]
    mine = np.random.default_rng(5)
    assert draw(mine) == draw(mine) == np.random.default_rng(5).random()


def test_a_generator_sync_the_grader_never_asked_for_is_refused(pair):
    tree = {"$g": codec.Encoder(type("H", (), {"generator": None, "array": None,
                                               "other": None})()).value(
        np.random.default_rng(0).bit_generator.state), "id": "g1"}
    with pytest.raises(ProtocolError, match="random generator"):
        pair.grader._apply_sync([tree], [])


def test_callbacks_and_generators(pair):
    names = pair.define("def grad(f, x):\n    return [f(v) for v in x]\n"
                        "def folds(n):\n    for i in range(n):\n        yield i, [i]\n")
    assert names["grad"](lambda v: v * 2, [1, 2, 3]) == [2, 4, 6]
    assert list(names["folds"](3)) == [(0, [0]), (1, [1]), (2, [2])]


def test_exceptions_cross_named_as_themselves(pair):
    names = pair.define("class Mine(ValueError):\n    pass\n"
                        "class Plain(Exception):\n    pass\n"
                        "def bad(kind):\n"
                        "    if kind == 1:\n        raise ValueError('x must be 1-D')\n"
                        "    if kind == 2:\n        raise NotImplementedError()\n"
                        "    if kind == 3:\n        raise Mine('custom')\n"
                        "    if kind == 4:\n        raise Plain('x' * 10**6)\n"
                        "    if kind == 5:\n        raise SystemExit(0)\n"
                        "    raise KeyboardInterrupt\n")
    bad = names["bad"]
    with pytest.raises(ValueError, match="1-D") as info:
        bad(1)
    assert type(info.value) is ValueError
    with pytest.raises(NotImplementedError):
        bad(2)
    with pytest.raises(StudentError) as info:
        bad(3)
    assert type(info.value).__name__ == "Mine" and isinstance(info.value, ValueError)
    assert str(info.value) == "custom"
    with pytest.raises(StudentError) as info:
        bad(4)
    assert type(info.value).__name__ == "Plain" and len(str(info.value)) == MAX_MESSAGE
    for kind, name in ((5, "SystemExit"), (6, "KeyboardInterrupt")):
        with pytest.raises(StudentError) as info:   # never the grader's own SystemExit
            bad(kind)
        assert type(info.value).__name__ == name


def test_proxies_compare_by_identity_and_never_run_student_eq(pair):
    names = pair.define("class Any:\n"
                        "    def __eq__(self, other):\n        return True\n"
                        "    def __bool__(self):\n        raise RuntimeError('asked')\n"
                        "one = Any()\n"
                        "def f():\n    return one\n"
                        "def g():\n    return Any()\n")
    got = names["f"]()
    assert isinstance(got, Proxy)
    assert got != 0.5 and not (got == 0.5) and got != names["g"]() and bool(got)
    assert got is names["f"]()   # one proxy per live remote object
    with pytest.raises(AttributeError):
        got.__array_interface__   # noqa: B018 - numpy probes this; it must not travel


VALUE = """
class Value:
    def __init__(self, data, children=()):
        self.data, self.grad, self._children = float(data), 0.0, children
        self._backward = lambda: None

    def _lift(self, o):
        return o if isinstance(o, Value) else Value(o)

    def _node(self, data, parents_grads):
        out = Value(data, tuple(p for p, _ in parents_grads))
        def backward():
            for p, local in parents_grads:
                p.grad += local * out.grad
        out._backward = backward
        return out

    def __add__(self, o):
        o = self._lift(o)
        return self._node(self.data + o.data, [(self, 1.0), (o, 1.0)])

    def __mul__(self, o):
        o = self._lift(o)
        return self._node(self.data * o.data, [(self, o.data), (o, self.data)])

    def __pow__(self, k):
        return self._node(self.data ** k, [(self, k * self.data ** (k - 1))])

    def __neg__(self):
        return self * -1

    def __pos__(self):
        return self

    def __abs__(self):
        return self._node(abs(self.data), [(self, 1.0 if self.data >= 0 else -1.0)])

    def __sub__(self, o):
        return self + (-self._lift(o))

    def __truediv__(self, o):
        return self * self._lift(o) ** -1

    def __rsub__(self, o):
        return self._lift(o) - self

    def __rtruediv__(self, o):
        return self._lift(o) / self

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self):
        order, seen = [], set()
        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for c in v._children:
                    visit(c)
                order.append(v)
        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

class Vec:
    def __init__(self, xs):
        self.xs = list(xs)
    def __matmul__(self, other):
        return float(sum(a * b for a, b in zip(self.xs, other)))
    def __rmatmul__(self, other):
        return -float(sum(a * b for a, b in zip(self.xs, other)))
    def __floordiv__(self, k):
        return [x // k for x in self.xs]
    def __mod__(self, k):
        return [x % k for x in self.xs]
"""


def test_proxies_forward_arithmetic_and_match_torch_autograd(pair):
    names = pair.define(VALUE)
    Value = names["Value"]
    a, b = Value(2.0), Value(-3.0)
    out = (a * 3 + a ** 2 - b / a + 1 / b + 2 - a * b + (-a) + (+b) + abs(b)) * 0.5
    out.backward()
    ta = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    tout = (ta * 3 + ta ** 2 - tb / ta + 1 / tb + 2 - ta * tb + (-ta) + (+tb) + tb.abs()) * 0.5
    tout.backward()
    assert out.data == pytest.approx(tout.item())
    assert a.grad == pytest.approx(ta.grad.item())
    assert b.grad == pytest.approx(tb.grad.item())
    assert (5 - a).data == pytest.approx(3.0) and (np.float64(4.0) * a).data == 8.0
    v = names["Vec"]([1, 2, 3])
    assert v @ [1, 1, 1] == 6.0 and [1.0, 0.0, 0.0] @ v == -1.0
    assert v // 2 == [0, 1, 1] and v % 2 == [1, 0, 1]


def test_student_cannot_reach_grader_internals(pair):
    class Node:
        def __init__(self):
            self.data = 2.0
            self.grad = 0.0

        def secret(self):
            return "reference"

        def __add__(self, other):
            return "reference"

    names = pair.define("def use(node, how):\n"
                        "    if how == 'attr':\n"
                        "        node.grad += node.data\n        return node.grad\n"
                        "    if how == 'dunder':\n"
                        "        return node._ch.request('getattr', h=node._h, name='__class__')\n"
                        "    if how == 'op':\n"
                        "        return node.secret + 1\n"
                        "    return node.secret()\n")
    node = Node()
    assert names["use"](node, "attr") == 2.0 and node.grad == 2.0
    for how in ("dunder", "call", "op"):
        with pytest.raises(StudentError) as info:
            names["use"](node, how)
        assert type(info.value).__name__ == "Forbidden"
    flags = pair.grader.take_flags()
    assert any("through an attribute" in f for f in flags)
    assert any("attribute __class__" in f for f in flags)
    assert pair.grader.take_flags() == []   # each flag is handed out once


def test_flags_are_capped_and_deduplicated(pair):
    names = pair.define("def flood(n):\n"
                        "    for i in range(n):\n"
                        "        CH.flag('same')\n"
                        "        CH.flag(f'flag {i} ' + 'x' * 1000)\n")
    pair.ns["CH"] = pair.student
    start = time.monotonic()
    names["flood"](100_000)
    flags = pair.grader.take_flags()
    assert time.monotonic() - start < 10
    assert len(flags) == MAX_FLAGS == len(set(flags)) and flags[0] == "same"
    assert max(len(f) for f in flags) == MAX_FLAG_CHARS
    names["flood"](10)
    assert pair.grader.take_flags() == []


def test_per_call_cost_is_constant_tables_do_not_grow(pair):
    names = pair.define("import numpy as np\n"
                        "class Box:\n    pass\n"
                        "def step(p, g):\n    p -= 0.01 * g\n    return Box(), g * 2\n")
    step = names["step"]
    p = inplace(np.zeros(1000))

    def sizes():
        g, s = pair.grader, pair.student
        return (len(g.objects), len(g._proxies), len(g.tracked),
                len(s.objects), len(s._proxies), len(s.tracked))

    for i in range(3000):
        box, doubled = step(p, np.full(1000, 1.0))
        if i == 100:
            early = sizes()
    assert sizes() == early
    assert max(early) <= 8
    np.testing.assert_allclose(p, -30.0)
    del p
    step(inplace(np.zeros(3)), np.ones(3))   # a dead marked array is dropped at both ends
    assert len(pair.grader.tracked) <= 1 and len(pair.student.tracked) <= 1


# -- malformed traffic -------------------------------------------------------------------
def _frame(msg, bufs=(), raw_header: bytes | None = None) -> bytes:
    body = raw_header if raw_header is not None else json.dumps(msg).encode()
    head = json.dumps({"h": len(body), "b": [len(b) for b in bufs]}).encode()
    payload = struct.pack("!Q", len(head)) + head + body + b"".join(bufs)
    return struct.pack("!Q", len(payload)) + payload


def _reply(value, **extra):
    return {"op": "reply", "re": 1, "value": value, **extra}


def _deep(n):
    tree = 0
    for _ in range(n):
        tree = {"$l": [tree]}
    return tree


MALFORMED = {
    "unknown handle": _frame(_reply({"$r": ["g", 99]})),
    "own side as remote handle": _frame(_reply({"$h": ["g", 1]})),
    "handle not a pair": _frame(_reply({"$h": "s1"})),
    "object dtype": _frame(_reply({"$v": 1, "d": "|O", "s": [1], "b": 0}), [b"\0" * 8]),
    "size mismatch": _frame(_reply({"$v": 1, "d": "<f8", "s": [4], "b": 0}), [b"\0" * 8]),
    "buffer index": _frame(_reply({"$b": 3})),
    "unknown tag": _frame(_reply({"$pickle": "gASVAAAAAAAAAAA="})),
    "bare list": _frame(_reply([1, 2])),
    "tracked array in a reply": _frame(_reply({"$a": "s1", "d": "<f8", "s": [1], "b": 0}),
                                       [b"\0" * 8]),
    "extra unsolicited reply": _frame(_reply(1, re=7)),
    "no op": _frame({"value": 1}),
    "not an object": _frame(None, raw_header=b"[1, 2]"),
    "not JSON": _frame(None, raw_header=b"{\"op\": \"reply\", "),
    "flags not a list": _frame(_reply(1, flags="replaced numpy.allclose")),
    "flags not strings": _frame(_reply(1, flags=[{"$h": 1}])),
    "too many flags in a message": _frame(_reply(1, flags=[f"f{i}" for i in range(MAX_FLAGS + 1)])),
    "float too large": _frame(None, raw_header=b'{"op": "reply", "re": 1, "value": 1e999}'),
    "NaN token": _frame(None, raw_header=b'{"op": "reply", "re": 1, "value": NaN}'),
    "int of thousands of digits": _frame(
        None, raw_header=b'{"op": "reply", "re": 1, "value": ' + b"9" * 5000 + b"}"),
    "complex too large": _frame(_reply({"$c": [10 ** 400, 0.0]})),
    "deep JSON": _frame(None, raw_header=b'{"op": "reply", "re": 1, "value": '
                        + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "deep values": _frame(_reply(_deep(200))),
    "too many values": _frame(_reply({"$l": list(range(codec.MAX_ELEMENTS + 1))})),
    "too many packed numbers": _frame(_reply({"$p": "q", "b": 0}),
                                      [b"\0" * 8 * (codec.MAX_PACKED + 1)]),
    "sync of an array never sent": _frame(_reply(1, sync=[{"$a": "g77", "d": "<f8", "s": [1],
                                                           "b": 0}]), [b"\0" * 8]),
    "drop list from the student": _frame(_reply(1, drop=["g1"])),
    "free list of strings": _frame(_reply(1, free=["x"])),
    "exception of the wrong shape": _frame({"op": "reply", "re": 1, "raise": ["ValueError"]}),
    "bad random generator": _frame(_reply({"$g": {"$d": {"bit_generator": "Evil"}}})),
    "nested request with a bad handle": _frame({"op": "call", "id": 1, "h": ["g", 5],
                                                "args": {"$t": []}, "kwargs": {"$d": {}}}),
    "nested request of unknown kind": _frame({"op": "pickle", "id": 1, "h": ["g", 1]}),
    "nested request without id": _frame({"op": "len", "h": ["g", 1]}),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_messages_are_protocol_errors(case):
    a, b = socket.socketpair()
    grader = GraderChannel(a)
    grader.export(len)   # a grader object with handle 1
    grader.deadline = time.monotonic() + 20
    frame = MALFORMED[case]
    threading.Thread(target=b.sendall, args=(frame,), daemon=True).start()
    try:
        with pytest.raises(ProtocolError):
            grader.request("call", h=["s", 1], args=(), kwargs={})
    finally:
        a.close()
        b.close()


def test_garbage_from_a_second_thread_is_a_protocol_error():
    a, b = socket.socketpair()
    grader = GraderChannel(a)
    grader.deadline = time.monotonic() + 20
    rng = np.random.default_rng(0)
    garbage = struct.pack("!Q", 5000) + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    threading.Thread(target=b.sendall, args=(garbage,), daemon=True).start()
    with pytest.raises(ProtocolError):
        grader.request("call", h=["s", 1], args=(), kwargs={})
    a.close()
    b.close()


def test_student_end_refuses_values_it_cannot_send(pair):
    names = pair.define("def deep():\n"
                        "    x = []\n"
                        "    for _ in range(100):\n        x = [x]\n"
                        "    return x\n"
                        "def huge():\n    return 10 ** 2000\n")
    with pytest.raises(ValueError, match="nested"):
        names["deep"]()
    with pytest.raises(ValueError, match="too large"):
        names["huge"]()
    assert names["deep"].__name__ == "deep"   # the channel still works
