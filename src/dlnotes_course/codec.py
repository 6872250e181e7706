"""Values on the channel: JSON trees plus raw buffers, with bounded decoding cost.

Runs on both ends (shipped into the sandbox: standard library and numpy only).
Nothing here unpickles. A message is a JSON header and a list of byte
buffers; a value is a JSON tree whose tagged dicts point into the buffers:

========  ===========================================================
``$f``    a float that JSON cannot hold (``"nan"``, ``"inf"``, ``"-inf"``)
``$c``    complex ``[real, imag]``
``$b``    bytes (a buffer); ``$u``: a long string (a UTF-8 buffer)
``$v``    a numpy array, by value (dtype, shape, buffer)
``$a``    a numpy array the two ends keep in step (see :mod:`wire`)
``$s``    a numpy scalar
``$p``    a list or tuple of plain ints, floats or bools, packed in one buffer
``$t`` ``$l`` ``$d`` ``$D``  tuple, list, dict with str keys, dict of pairs
``$sl`` ``$e`` ``$g``  slice, Ellipsis, numpy random Generator (its state)
``$h``    an object that stays at its sender (a handle, seen as a proxy)
``$r``    a handle of the receiver's own object, coming back
========  ===========================================================

Decoding refuses (:class:`ProtocolError`) anything malformed and bounds its
cost: at most :data:`MAX_ELEMENTS` tree nodes and :data:`MAX_PACKED` packed
numbers per message, :data:`MAX_DEPTH` levels, ints of at most
:data:`MAX_INT_DIGITS` digits, no non-finite JSON numbers.
"""

from __future__ import annotations

import json
import struct

import numpy as np

MAX_FRAME = 512 * 1024 * 1024      # bytes in one message
MAX_HEADER = 8 * 1024 * 1024       # bytes of JSON in one message
MAX_BUFFERS = 100_000
MAX_ELEMENTS = 200_000             # JSON tree nodes decoded per message
MAX_PACKED = 1_000_000             # numbers in packed lists per message
MAX_DEPTH = 60
MAX_INT_DIGITS = 600
LONG_STRING = 64 * 1024            # longer strings travel as a buffer
PACK_MIN = 16                      # shorter lists of numbers stay JSON
ARRAY_KINDS = "biufc"
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_PACKED = {"q": (np.int64, int), "d": (np.float64, float), "?": (np.bool_, bool)}


class ProtocolError(Exception):
    """The other end sent something that is not a valid message."""


# -- framing -------------------------------------------------------------------
def _bad_constant(text):
    raise ProtocolError(f"non-finite JSON number {text[:20]}")


def _parse_int(text):
    if len(text) > MAX_INT_DIGITS:
        raise ProtocolError(f"an int of {len(text)} digits")
    return int(text)


def _parse_float(text):
    value = float(text)
    if value - value != 0.0:
        raise ProtocolError("a JSON number too large for a float")
    return value


def loads(raw: bytes):
    """Strict JSON: no NaN/Infinity tokens, no overflowing floats, no huge ints."""
    try:
        return json.loads(raw, parse_constant=_bad_constant, parse_int=_parse_int,
                          parse_float=_parse_float)
    except (ValueError, RecursionError, TypeError) as exc:
        raise ProtocolError(f"malformed JSON: {type(exc).__name__}") from None


def pack(msg: dict, bufs: list) -> bytes:
    """One frame: length, then a small index (header length, buffer lengths), header, buffers."""
    header = json.dumps(msg, allow_nan=False, separators=(",", ":")).encode()
    head = json.dumps({"h": len(header), "b": [len(b) for b in bufs]}).encode()
    size = 8 + len(head) + len(header) + sum(len(b) for b in bufs)
    return b"".join([struct.pack("!QQ", size, len(head)), head, header, *bufs])


def unpack(payload: bytes) -> tuple[dict, list]:
    """The header and buffers of one frame's payload (after its length)."""
    if len(payload) < 8:
        raise ProtocolError("truncated message")
    (hlen,) = struct.unpack("!Q", payload[:8])
    if hlen > 16 + 16 * MAX_BUFFERS:
        raise ProtocolError("message index too long")
    head = loads(payload[8:8 + hlen])
    if type(head) is not dict or type(head.get("h")) is not int or type(head.get("b")) is not list:
        raise ProtocolError("malformed message index")
    lengths = head["b"]
    if not 0 <= head["h"] <= MAX_HEADER or len(lengths) > MAX_BUFFERS \
            or any(type(n) is not int or n < 0 for n in lengths):
        raise ProtocolError("malformed message index")
    start = 8 + hlen + head["h"]
    if start + sum(lengths) != len(payload):
        raise ProtocolError("message length does not match its parts")
    msg = loads(payload[8 + hlen:start])
    if type(msg) is not dict:
        raise ProtocolError("message is not a JSON object")
    view, bufs, pos = memoryview(payload), [], start
    for n in lengths:
        bufs.append(view[pos:pos + n])
        pos += n
    return msg, bufs


# -- encoding ------------------------------------------------------------------
def array_tree(tag: str, key, a: np.ndarray, bufs: list) -> dict:
    """``{tag: key, "d": dtype, "s": shape, "b": buffer}``, appending ``a``'s bytes to ``bufs``."""
    bufs.append(np.ascontiguousarray(a).tobytes())
    return {tag: key, "d": a.dtype.str, "s": list(a.shape), "b": len(bufs) - 1}


def _packed(seq, bufs: list):
    """``seq`` as one buffer if it is long and all plain ints, all floats or all bools."""
    if len(seq) > MAX_PACKED:
        raise ValueError(f"a {type(seq).__name__} of {len(seq)} items is too long to send "
                         f"(at most {MAX_PACKED}): use a numpy array")
    types = set(map(type, seq))
    for code, (dtype, pytype) in _PACKED.items():
        if types == {pytype}:
            try:
                data = np.array(seq, dtype=dtype)
            except OverflowError:
                return None
            bufs.append(data.tobytes())
            return {"$p": code, "b": len(bufs) - 1, "t": type(seq) is tuple}
    return None


class Encoder:
    """Turns a value into a JSON tree plus buffers; ``hooks`` encode arrays and objects.

    ``hooks.array(a, bufs)`` returns the tree of an ndarray and
    ``hooks.other(obj)`` that of anything that does not cross by value;
    ``hooks.generator(g)``, if set, may return an id to send with a random
    generator (its state then comes back after the call).
    """

    def __init__(self, hooks):
        self.hooks = hooks
        self.bufs: list = []
        self.elements = 0

    def value(self, value, depth: int = 0):
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise ValueError(f"value holds more than {MAX_ELEMENTS} items: use a numpy array")
        if depth > MAX_DEPTH - 5:
            raise ValueError(f"value nested more than {MAX_DEPTH - 5} levels deep")
        t = type(value)
        if value is None or t is bool or t is str and len(value) <= LONG_STRING:
            return value
        if t is int:
            if value.bit_length() > 3 * MAX_INT_DIGITS:
                raise ValueError("int too large to send")
            return value
        if t is float:
            return value if value - value == 0.0 else {"$f": repr(value)}
        return self._tagged(value, t, depth)

    def _tagged(self, value, t, depth):
        bufs = self.bufs
        if t is str:
            bufs.append(value.encode("utf-8", "surrogatepass"))
            return {"$u": len(bufs) - 1}
        if t is complex:
            return {"$c": [self.value(value.real), self.value(value.imag)]}
        if t is bytes:
            bufs.append(value)
            return {"$b": len(bufs) - 1}
        if t is np.ndarray and value.dtype.kind in ARRAY_KINDS:
            return self.hooks.array(value, bufs)
        if isinstance(value, np.generic) and t.__module__ == "numpy" \
                and value.dtype.kind in ARRAY_KINDS:
            bufs.append(value.tobytes())
            return {"$s": value.dtype.str, "b": len(bufs) - 1}
        if t is tuple or t is list:
            if len(value) >= PACK_MIN:
                packed = _packed(value, bufs)
                if packed is not None:
                    return packed
            return {"$t" if t is tuple else "$l": [self.value(v, depth + 1) for v in value]}
        if t is dict:
            if all(type(k) is str for k in value):
                return {"$d": {k: self.value(v, depth + 1) for k, v in value.items()}}
            return {"$D": [[self.value(k, depth + 1), self.value(v, depth + 1)]
                           for k, v in value.items()]}
        if t is slice:
            return {"$sl": [self.value(v, depth + 1)
                            for v in (value.start, value.stop, value.step)]}
        if value is Ellipsis:
            return {"$e": 1}
        if t is np.random.Generator and type(value.bit_generator).__name__ in BIT_GENERATORS:
            # a copy in the same state: the callee draws what the caller would have drawn
            tree = {"$g": self.value(value.bit_generator.state, depth + 1)}
            gid = self.hooks.generator(value) if self.hooks.generator is not None else None
            if gid is not None:   # the caller wants the callee's draws back (see wire)
                tree["id"] = gid
            return tree
        return self.hooks.other(value)


# -- decoding ------------------------------------------------------------------
def dtype_of(text) -> np.dtype:
    """A plain numeric dtype from its string, else :class:`ProtocolError`."""
    if type(text) is not str or len(text) > 8:
        raise ProtocolError("bad dtype")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise ProtocolError("bad dtype") from None
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject or dtype.fields is not None \
            or dtype.subdtype is not None:
        raise ProtocolError("bad dtype")
    return dtype


def buffer_at(bufs, index):
    if type(index) is not int or not 0 <= index < len(bufs):
        raise ProtocolError("bad buffer index")
    return bufs[index]


def array_from(tree: dict, bufs) -> np.ndarray:
    """A fresh, writable array from ``{"d", "s", "b"}`` fields."""
    dtype = dtype_of(tree.get("d"))
    shape = tree.get("s")
    if type(shape) is not list or len(shape) > 32 \
            or any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError("bad shape")
    raw = buffer_at(bufs, tree.get("b"))
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(raw):
        raise ProtocolError("array size does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _float(tree) -> float:
    if type(tree) is float:
        return tree
    if type(tree) is int:
        try:
            return float(tree)
        except OverflowError:
            raise ProtocolError("an int too large for a float") from None
    if type(tree) is dict and tree.get("$f") in ("nan", "inf", "-inf") and len(tree) == 1:
        return float(tree["$f"])
    raise ProtocolError("bad float")


class Decoder:
    """Turns a JSON tree plus buffers back into a value, within the per-message budget.

    ``hooks.array(tree, bufs)`` resolves ``$a`` arrays,
    ``hooks.handle(tag, tree)`` the ``$h``/``$r`` handles (``tree[tag]`` is ``[side, id]``)
    and ``hooks.generator(id, g)``, if set, notes a random generator sent with an id.
    """

    def __init__(self, hooks, bufs):
        self.hooks = hooks
        self.bufs = bufs
        self.elements = 0
        self.packed = 0

    def value(self, tree, depth: int = 0):
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise ProtocolError(f"message holds more than {MAX_ELEMENTS} values")
        if depth > MAX_DEPTH:
            raise ProtocolError("message nested too deeply")
        t = type(tree)
        if tree is None or t is bool or t is int or t is float or t is str:
            return tree
        if t is not dict or len(tree) == 0:
            raise ProtocolError("malformed value")
        for tag in tree:
            method = _DECODERS.get(tag)
            if method is not None:
                return method(self, tree, depth)
            break
        raise ProtocolError("unknown value tag")

    def items(self, tree, key, depth) -> list:
        seq = tree[key]
        if type(seq) is not list:
            raise ProtocolError(f"malformed {key}")
        return [self.value(v, depth + 1) for v in seq]

    def _packed(self, tree, depth):
        code = tree["$p"]
        if code not in _PACKED:
            raise ProtocolError("bad packed list")
        dtype = np.dtype(_PACKED[code][0])
        raw = buffer_at(self.bufs, tree.get("b"))
        if len(raw) % dtype.itemsize:
            raise ProtocolError("bad packed list")
        self.packed += len(raw) // dtype.itemsize
        if self.packed > MAX_PACKED:
            raise ProtocolError(f"message holds more than {MAX_PACKED} packed numbers")
        items = np.frombuffer(raw, dtype=dtype).tolist()
        return tuple(items) if tree.get("t") is True else items

    def _dict(self, tree, depth):
        pairs = tree["$d"]
        if type(pairs) is not dict:
            raise ProtocolError("malformed dict")
        return {k: self.value(v, depth + 1) for k, v in pairs.items()}

    def _list_pairs(self, tree, depth):
        seq = tree["$D"]
        if type(seq) is not list:
            raise ProtocolError("malformed dict")
        out = {}
        for pair in seq:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("malformed dict")
            key = self.value(pair[0], depth + 1)
            try:
                out[key] = self.value(pair[1], depth + 1)
            except TypeError:
                raise ProtocolError("unhashable dict key") from None
        return out

    def _slice(self, tree, depth):
        parts = self.items(tree, "$sl", depth)
        if len(parts) != 3:
            raise ProtocolError("malformed slice")
        return slice(*parts)

    def _scalar(self, tree, depth):
        dtype = dtype_of(tree["$s"])
        raw = buffer_at(self.bufs, tree.get("b"))
        if len(raw) != dtype.itemsize:
            raise ProtocolError("bad scalar")
        return np.frombuffer(raw, dtype=dtype)[0]

    def _complex(self, tree, depth):
        parts = tree["$c"]
        if type(parts) is not list or len(parts) != 2:
            raise ProtocolError("bad complex")
        return complex(_float(parts[0]), _float(parts[1]))

    def _string(self, tree, depth):
        try:
            return bytes(buffer_at(self.bufs, tree["$u"])).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise ProtocolError("bad string") from None

    def _generator(self, tree, depth):
        generator = generator_from(self.value(tree["$g"], depth + 1))
        if "id" in tree:
            if self.hooks.generator is None:
                raise ProtocolError("unexpected random generator id")
            self.hooks.generator(tree["id"], generator)
        return generator


def set_generator_state(generator, state) -> None:
    """Put ``generator`` into ``state`` (a decoded ``bit_generator.state``), or ProtocolError."""
    name = state.get("bit_generator") if type(state) is dict else None
    if name not in BIT_GENERATORS or type(generator.bit_generator).__name__ != name:
        raise ProtocolError("bad random generator")
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ProtocolError(f"bad random generator state: {type(exc).__name__}") from None


def generator_from(state) -> np.random.Generator:
    """A new generator in ``state`` (a decoded ``bit_generator.state``), or ProtocolError."""
    name = state.get("bit_generator") if type(state) is dict else None
    if name not in BIT_GENERATORS:
        raise ProtocolError("bad random generator")
    generator = np.random.Generator(getattr(np.random, name)())
    set_generator_state(generator, state)
    return generator


_DECODERS = {
    "$f": lambda d, t, depth: _float(t),
    "$c": Decoder._complex,
    "$b": lambda d, t, depth: bytes(buffer_at(d.bufs, t["$b"])),
    "$u": Decoder._string,
    "$v": lambda d, t, depth: array_from(t, d.bufs),
    "$a": lambda d, t, depth: d.hooks.array(t, d.bufs),
    "$s": Decoder._scalar,
    "$p": Decoder._packed,
    "$t": lambda d, t, depth: tuple(d.items(t, "$t", depth)),
    "$l": lambda d, t, depth: d.items(t, "$l", depth),
    "$d": Decoder._dict,
    "$D": Decoder._list_pairs,
    "$sl": Decoder._slice,
    "$e": lambda d, t, depth: Ellipsis,
    "$g": Decoder._generator,
    "$h": lambda d, t, depth: d.hooks.handle("$h", t),
    "$r": lambda d, t, depth: d.hooks.handle("$r", t),
}
