"""The grader/student channel: values, proxies, in-place arrays, and what it refuses."""

from __future__ import annotations

import json
import socket
import struct
import threading

import numpy as np
import pytest

from dlnotes_course.wire import Channel, ChannelClosed, ProtocolError, Proxy, StudentError


@pytest.fixture
def pair():
    """A grader end and a student end served by a thread, with a student namespace."""
    a, b = socket.socketpair()
    grader, student = Channel(a, "g", trusted=True), Channel(b, "s", trusted=False)
    ns = {}

    def on_request(op, msg, bufs):
        if op == "define":
            exec(student.decode(msg["code"], bufs), ns)
            return {k: v for k, v in ns.items() if not k.startswith("__")}
        return NotImplemented

    student.on_request = on_request

    def serve():
        while True:
            try:
                msg, bufs = student.recv()
            except ChannelClosed:
                return
            student.serve_one(msg, bufs)

    threading.Thread(target=serve, daemon=True).start()
    yield grader, lambda code: grader.request("define", code=code)
    a.close()


def test_plain_values_cross_by_value(pair):
    grader, define = pair
    names = define("def echo(x):\n    return x\n")
    echo = names["echo"]
    assert isinstance(echo, Proxy)
    value = {"a": (1, 2.5, None, True), "b": [np.float32(1.5), 3 + 4j, b"raw", "text"],
             (1, 2): float("nan")}
    got = echo(value)
    assert got["a"] == (1, 2.5, None, True)
    assert type(got["b"][0]) is np.float32 and got["b"][1:] == [3 + 4j, b"raw", "text"]
    assert np.isnan(got[(1, 2)])
    x = np.arange(12.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(echo(x), x)


def test_in_place_updates_reach_the_caller(pair):
    grader, define = pair
    names = define("class SGD:\n"
                   "    def __init__(self, params, lr):\n"
                   "        self.params, self.lr = params, lr\n"
                   "    def step(self, grads):\n"
                   "        for p, g in zip(self.params, grads):\n"
                   "            p -= self.lr * g\n")
    W, b = np.ones((2, 2)), np.zeros(2)
    opt = names["SGD"]([W, b], lr=0.5)
    for _ in range(3):
        opt.step([np.ones((2, 2)), np.ones(2)])
    np.testing.assert_allclose(W, -0.5)
    np.testing.assert_allclose(b, -1.5)
    opt.lr = 0.1
    assert opt.lr == 0.1
    W[:] = 10.0            # a change on the grader's side reaches the student's copy
    opt.step([np.ones((2, 2)), np.zeros(2)])
    np.testing.assert_allclose(W, 9.9)


def test_random_generators_cross_as_copies_in_the_same_state(pair):
    grader, define = pair
    draw = define("def draw(rng, n):\n    return rng.random(n)\n")["draw"]
    np.testing.assert_array_equal(draw(np.random.default_rng(7), 5),
                                  np.random.default_rng(7).random(5))


def test_callbacks_and_generators(pair):
    grader, define = pair
    names = define("def grad(f, x):\n    return [f(v) for v in x]\n"
                   "def folds(n):\n    for i in range(n):\n        yield i, [i]\n")
    assert names["grad"](lambda v: v * 2, [1, 2, 3]) == [2, 4, 6]
    assert list(names["folds"](3)) == [(0, [0]), (1, [1]), (2, [2])]


def test_exceptions_cross_with_their_type(pair):
    grader, define = pair
    names = define("class Mine(Exception):\n    pass\n"
                   "def bad(kind):\n"
                   "    if kind == 1:\n        raise ValueError('x must be 1-D')\n"
                   "    if kind == 2:\n        raise NotImplementedError()\n"
                   "    raise Mine('custom')\n")
    with pytest.raises(ValueError, match="1-D"):
        names["bad"](1)
    with pytest.raises(NotImplementedError):
        names["bad"](2)
    with pytest.raises(StudentError, match="Mine: custom"):
        names["bad"](3)


def test_student_objects_never_compare_equal_by_proxy(pair):
    grader, define = pair
    names = define("class Any:\n    def __eq__(self, other):\n        return True\n"
                   "def f():\n    return Any()\n")
    got = names["f"]()
    assert isinstance(got, Proxy) and got._eq
    assert got != 0.5 and not (got == 0.5)
    with pytest.raises(AttributeError):
        got.__array_interface__   # noqa: B018 - numpy probes this; it must not travel


def test_student_cannot_reach_grader_internals(pair):
    grader, define = pair

    class Node:
        def __init__(self):
            self.data = 2.0
            self.grad = 0.0

        def secret(self):
            return "reference"

    names = define("def use(node, how):\n"
                   "    if how == 'attr':\n"
                   "        node.grad += node.data\n        return node.grad\n"
                   "    if how == 'dunder':\n"
                   "        return node._ch.request('getattr', h=node._h, name='__class__')\n"
                   "    return node.secret()\n")
    node = Node()
    assert names["use"](node, "attr") == 2.0 and node.grad == 2.0
    with pytest.raises(StudentError, match="Forbidden"):
        names["use"](node, "dunder")
    with pytest.raises(StudentError, match="Forbidden"):
        names["use"](node, "call")
    assert any("through an attribute" in n for n in grader.notices)


def test_malformed_messages_are_protocol_errors():
    a, b = socket.socketpair()
    grader = Channel(a, "g", trusted=True)
    for header in ({"op": "reply", "value": {"$h": ["g", 99]}},
                   {"op": "reply", "value": {"$a": "s1", "d": "O", "s": [1], "b": 0}},
                   {"op": "reply", "value": {"$a": "s1", "d": "<f8", "s": [4], "b": 0}},
                   {"op": "reply", "value": {"$pickle": "gASVAAAAAAAAAAA="}}):
        body = json.dumps(header).encode()
        bufs = [b"\0" * 8]
        head = json.dumps({"h": len(body), "b": [8]}).encode()
        payload = struct.pack("!Q", len(head)) + head + body + bufs[0]
        b.sendall(struct.pack("!Q", len(payload)) + payload)
        with pytest.raises(ProtocolError):
            grader.request("call", h=["s", 1], args=(), kwargs={})
        b.recv(1 << 16)   # drop the request
    a.close()
    b.close()
