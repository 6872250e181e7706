"""The channel between the grader and a sandboxed student process.

Both ends run this module: the grader (:class:`GraderChannel`) and the student
process (:class:`StudentChannel`, which may import only the standard library
and numpy). Values are encoded by :mod:`codec` (JSON plus raw buffers, never
pickles); this module frames messages, matches replies to requests, keeps the
table of objects the other end holds handles to, and keeps in step the arrays
a test hands over for in-place update.

What crosses by value: ``None``, ``bool``, ``int``, ``float``, ``complex``,
``str``, ``bytes``, numeric numpy scalars and arrays, numpy random
``Generator`` objects (a copy in the same state), and tuples, lists, dicts and
slices of those. Anything else (functions, classes, instances) stays where it
lives and crosses as a *handle*; the other end sees a :class:`Proxy` whose
calls, attribute and item access and arithmetic travel back over the channel.
Calls nest both ways (a student's function may call a function the test
passed in), always strictly: one request is answered before the one that
caused it, and every reply names the request it answers.

Arrays. An array the grader sends reaches the student as a copy, and the
student's changes come back into the grader's array only if the grader's
``writable(array)`` says so (a test marks an optimizer's parameters with
:func:`dlnotes.checks.inplace`). Such arrays keep their identity in the student
process across calls, are tracked weakly on both ends (forgotten when no live
object holds them) and synced both ways, before every message, only when their
bytes changed. Arrays the student returns always arrive as fresh arrays.
Arrays the student passes to a grader function come back changed after that
call, and so does a random ``Generator``: a test's ``sample_fn(logits, rng)``
that draws from the student's generator advances it, as it would in the
notebook. Proxies that die release their object at the other end with the next
message, so neither end's tables grow with the number of calls.
"""

from __future__ import annotations

import builtins
import hashlib
import operator
import socket
import struct
import time
import weakref

import numpy as np

try:
    from . import codec
except ImportError:   # in the sandbox, beside codec.py
    import codec

ProtocolError = codec.ProtocolError
MAX_MESSAGE = 2000              # characters of an exception message or repr
MAX_NAME = 80
MAX_NESTING = 64                # requests nested inside each other
MAX_FLAGS = 50                  # distinct flags per channel
MAX_FLAGS_PER_MESSAGE = MAX_FLAGS   # the student end never has more pending
MAX_FLAG_CHARS = 300
MAX_EXCEPTION_TYPES = 64
# Exceptions that cross as themselves; a student's own type crosses as a
# StudentError subclass of the same name (and of its nearest type below).
SAFE_EXCEPTIONS = {name: getattr(builtins, name) for name in (
    "ArithmeticError", "AssertionError", "AttributeError", "EOFError", "Exception",
    "FloatingPointError", "ImportError", "IndexError", "KeyError", "LookupError",
    "MemoryError", "ModuleNotFoundError", "NameError", "NotImplementedError", "OverflowError",
    "PermissionError", "RecursionError", "RuntimeError", "StopIteration", "SyntaxError",
    "TypeError", "UnboundLocalError", "ValueError", "ZeroDivisionError", "OSError",
    "IndentationError", "UnicodeError",
)}
#: Operators a proxy forwards to the object it stands for.
OPERATORS = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "neg", "pos", "abs")}
_UNARY = ("neg", "pos", "abs")
_EXCEPTION_TYPES: dict = {}     # (name, builtin base) -> StudentError subclass


class ChannelClosed(BaseException):
    """The other end went away (its process died or closed the channel).

    A ``BaseException`` so that ``except Exception`` in test code cannot
    swallow it: the grader must see that the student process is gone.
    """


class ChannelTimeout(BaseException):
    """No answer before the deadline (the student's code is still running)."""


class StudentError(Exception):
    """An exception of a type that does not cross as itself (the base of those that do not)."""


class Forbidden(Exception):
    """The student process asked for something the grader does not serve."""


def _digest(a: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(a), digest_size=16).digest()


def _text(obj, limit: int = MAX_MESSAGE) -> str:
    try:
        text = str(obj)
    except Exception:  # noqa: BLE001 - a student's __str__ may fail
        text = "<unprintable>"
    return text[:limit]


class Tracked:
    """Arrays kept in step with the other end, held weakly.

    ``aid -> [weakref, digest, dtype, shape]``: what no live object holds is
    forgotten (``on_death(aid)`` is called), and :meth:`changed` hashes only the
    live arrays. A weakref callback only queues the death (it may run in the
    middle of anything); the tables change in :meth:`purge`.
    """

    def __init__(self, on_death=None):
        self.entries: dict[str, list] = {}
        self._ids: dict[int, str] = {}
        self._dead: list[tuple] = []
        self.on_death = on_death

    def __len__(self):
        self.purge()
        return len(self.entries)

    def purge(self) -> None:
        """Forget the arrays that died."""
        while self._dead:
            aid, key, ref = self._dead.pop()
            entry = self.entries.get(aid)
            if entry is not None and entry[0] is ref:
                del self.entries[aid]
                if self._ids.get(key) == aid:
                    del self._ids[key]
                if self.on_death is not None:
                    self.on_death(aid)

    def add(self, aid: str, a: np.ndarray) -> None:
        self.purge()
        key = id(a)

        def gone(ref, aid=aid, key=key):
            self._dead.append((aid, key, ref))

        self.forget(aid)
        self.forget(self._ids.get(key, ""))
        self.entries[aid] = [weakref.ref(a, gone), _digest(a), a.dtype, a.shape]
        self._ids[key] = aid

    def get(self, aid: str):
        entry = self.entries.get(aid)
        return entry[0]() if entry is not None else None

    def aid_of(self, a: np.ndarray):
        aid = self._ids.get(id(a))
        return aid if aid is not None and self.get(aid) is a else None

    def forget(self, aid: str) -> None:
        entry = self.entries.pop(aid, None)
        if entry is not None:
            a = entry[0]()
            if a is not None and self._ids.get(id(a)) == aid:
                del self._ids[id(a)]

    def synced(self, aid: str, a: np.ndarray) -> None:
        """``a`` now holds what the other end holds."""
        self.entries[aid][1] = _digest(a)

    def changed(self):
        """``(aid, array)`` of the live arrays changed since they were last in step."""
        self.purge()
        out = []
        for aid, entry in list(self.entries.items()):
            a = entry[0]()
            if a is None or a.dtype != entry[2] or a.shape != entry[3]:
                continue
            d = _digest(a)
            if d != entry[1]:
                entry[1] = d
                out.append((aid, a))
        return out


class Flags:
    """Distinct flags, at most :data:`MAX_FLAGS` of :data:`MAX_FLAG_CHARS` characters each.

    >>> flags = Flags()
    >>> for text in ["a", "b", "a"]:
    ...     flags.add(text)
    >>> flags.take(), flags.take()
    (['a', 'b'], [])
    """

    def __init__(self):
        self._seen: set[str] = set()
        self._new: list[str] = []

    def add(self, text: str) -> None:
        text = str(text)[:MAX_FLAG_CHARS]
        if text not in self._seen and len(self._seen) < MAX_FLAGS:
            self._seen.add(text)
            self._new.append(text)

    def take(self) -> list[str]:
        """The flags added since the last call."""
        new, self._new = self._new, []
        return new


class _Hooks:
    __slots__ = ("array", "other", "handle", "generator")

    def __init__(self, array, other=None, handle=None, generator=None):
        self.array, self.other, self.handle = array, other, handle
        self.generator = generator


class Channel:
    """One end of the channel, over a connected stream socket: framing, RPC, handles.

    Use :class:`GraderChannel` or :class:`StudentChannel`; ``side`` (``"g"``
    or ``"s"``) is in every handle and tracked array id this end issues.
    """

    side = "?"
    other_side = "?"

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.objects: dict[int, object] = {}       # handle id -> our object
        self.origins: dict[int, str] = {}          # handle id -> "value" | "attr"
        self._ids: dict[int, int] = {}             # id(our object) -> handle id
        self._proxies: dict[int, weakref.ref] = {}  # their handle id -> live proxy
        self._dead_proxies: list[tuple] = []       # (handle id, weakref) of proxies that died
        self.tracked = Tracked(self._array_died if self.side == "g" else None)
        self._drop: set[str] = set()               # our tracked arrays that died
        self._requests: list[dict] = []            # call-scoped arrays of our pending requests
        self._serving: list[dict] = []             # call-scoped arrays of requests we serve
        self._keep: list[list] = []                # tracked arrays a request we serve holds
        self._next = 0
        self._request_id = 0
        self.deadline: float | None = None
        self.closed = False
        self.on_request = None                     # optional hook(op, msg, decode)
        self.on_served = None                      # optional hook(value), after a request
        self._enc_request = _Hooks(self._encode_array_request, self._encode_other,
                                   generator=self._encode_generator_request)
        self._enc_reply = _Hooks(self._encode_array_reply, self._encode_other)
        self._dec = _Hooks(self._decode_array, handle=self._decode_handle,
                           generator=self._decode_generator)

    # -- handles -----------------------------------------------------------
    def _new_id(self) -> int:
        self._next += 1
        return self._next

    def _encode_other(self, obj):
        if isinstance(obj, Proxy) and obj._ch is self:
            return {"$r": obj._h}
        return self.export(obj, self._origin)

    _origin = "value"

    def export(self, obj, origin: str = "value") -> dict:
        """A handle to ``obj``, which stays here until the other end releases it."""
        hid = self._ids.get(id(obj))
        if hid is None or self.objects.get(hid) is not obj:
            hid = self._new_id()
            self.objects[hid] = obj
            self._ids[id(obj)] = hid
            self.origins[hid] = origin
        elif origin == "value":
            self.origins[hid] = "value"
        fname = getattr(obj, "__name__", None) if callable(obj) else None
        return {"$h": [self.side, hid], "n": _text(type(obj).__name__, MAX_NAME),
                "f": fname[:MAX_NAME] if type(fname) is str else None}

    def _release(self, hids) -> None:
        if type(hids) is not list or len(hids) > codec.MAX_ELEMENTS:
            raise ProtocolError("malformed free list")
        for hid in hids:
            if type(hid) is not int:
                raise ProtocolError("malformed free list")
            obj = self.objects.pop(hid, None)
            self.origins.pop(hid, None)
            if obj is not None and self._ids.get(id(obj)) == hid:
                del self._ids[id(obj)]

    def _decode_handle(self, tag, tree):
        payload = tree[tag]
        if type(payload) is not list or len(payload) != 2 or type(payload[1]) is not int:
            raise ProtocolError("malformed handle")
        side, hid = payload
        if tag == "$r":
            if side != self.side or hid not in self.objects:
                raise ProtocolError("unknown handle")
            return self.objects[hid]
        if side != self.other_side or not 0 < hid < 2 ** 53:
            raise ProtocolError("bad handle")
        ref = self._proxies.get(hid)
        proxy = ref() if ref is not None else None
        if proxy is None:   # (a release queued for a dead proxy of it is now void)
            proxy = Proxy(self, [side, hid], _text(tree.get("n", "?"), MAX_NAME))
            if type(tree.get("f")) is str:   # a function's or class's own name
                object.__setattr__(proxy, "__name__", tree["f"][:MAX_NAME])
            self._proxies[hid] = weakref.ref(proxy, self._proxy_died(hid))
        return proxy

    def _proxy_died(self, hid):
        def died(ref):
            self._dead_proxies.append((hid, ref))
        return died

    def _released(self) -> list[int]:
        """Their handles our dead proxies held (sent with the next message)."""
        free = []
        while self._dead_proxies:
            hid, ref = self._dead_proxies.pop()
            if self._proxies.get(hid) is ref:
                del self._proxies[hid]
                free.append(hid)
        return free

    def _array_died(self, aid: str) -> None:
        self._drop.add(aid)

    # -- arrays (the two ends differ; see the subclasses) --------------------
    def _encode_array_request(self, a, bufs):
        return codec.array_tree("$v", 1, a, bufs)

    _encode_array_reply = _encode_array_request

    def _decode_array(self, tree, bufs):
        aid = tree.get("$a")
        if type(aid) is not str or not aid.startswith(self.other_side) or not self._serving:
            raise ProtocolError("unexpected tracked array")
        fresh = codec.array_from(tree, bufs)
        self._serving[-1][aid] = (fresh, _digest(fresh))
        return fresh

    # -- random generators: by value, and back after a call that asked for it -----
    def _encode_generator_request(self, g):
        """None: a generator this end sends is a copy (the student end overrides)."""
        return None

    def _decode_generator(self, gid, g) -> None:
        if type(gid) is not str or not gid.startswith(self.other_side) or not self._serving:
            raise ProtocolError("unexpected random generator id")
        self._serving[-1][gid] = (g, g.bit_generator.state)

    def _apply_generator_sync(self, tree) -> None:
        gid = tree.get("id")
        local = self._requests[-1].get(gid) if self._requests and type(gid) is str else None
        if not isinstance(local, np.random.Generator):
            raise ProtocolError("sync of a random generator this end never sent")
        codec.set_generator_state(local, codec.Decoder(self._dec, []).value(tree["$g"]))

    def _apply_sync(self, trees, bufs) -> None:
        if type(trees) is not list:
            raise ProtocolError("malformed sync")
        for tree in trees:
            if type(tree) is dict and "$g" in tree:
                self._apply_generator_sync(tree)
                continue
            if type(tree) is not dict or type(tree.get("$a")) is not str:
                raise ProtocolError("malformed sync")
            aid = tree["$a"]
            fresh = codec.array_from(tree, bufs)
            local = self.tracked.get(aid)
            if local is None:
                local = self._requests[-1].get(aid) if self._requests else None
                if local is None:
                    self._unknown_array(aid)
                    continue
            elif local.shape != fresh.shape or local.dtype != fresh.dtype:
                raise ProtocolError("synced array changed its shape or dtype")
            if local.flags.writeable and local.shape == fresh.shape \
                    and local.dtype == fresh.dtype:
                np.copyto(local, fresh)
            if self.tracked.get(aid) is local:
                self.tracked.synced(aid, local)

    def _unknown_array(self, aid: str) -> None:
        """A sync for an array this end does not hold (any more)."""

    def _outgoing_sync(self, bufs, reply: bool) -> list:
        sync = [codec.array_tree("$a", aid, a, bufs) for aid, a in self.tracked.changed()]
        if reply and self._serving:
            for aid, (a, before) in self._serving[-1].items():
                if isinstance(a, np.random.Generator):
                    state = a.bit_generator.state
                    if state != before:
                        sync.append({"$g": codec.Encoder(_Hooks(None)).value(state),
                                     "id": aid})
                elif _digest(a) != before:
                    sync.append(codec.array_tree("$a", aid, a, bufs))
        return sync

    # -- framing -----------------------------------------------------------
    def send(self, msg: dict, bufs: list) -> None:
        msg["sync"] = self._outgoing_sync(bufs, msg.get("op") == "reply")
        free = self._released()
        if free:
            msg["free"] = free
        if self._drop:
            msg["drop"], self._drop = sorted(self._drop), set()
        self._outgoing_flags(msg)
        frame = codec.pack(msg, bufs)
        try:
            self.sock.sendall(frame)
        except OSError as exc:
            self.closed = True
            raise ChannelClosed(str(exc)) from None

    def _outgoing_flags(self, msg: dict) -> None:
        pass

    def _incoming_flags(self, flags) -> None:
        if flags is not None:
            raise ProtocolError("unexpected flags")

    def _recv_exact(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise ChannelTimeout()
                self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(min(n - got, 1 << 20))
            except TimeoutError:
                raise ChannelTimeout() from None
            except OSError as exc:
                self.closed = True
                raise ChannelClosed(str(exc)) from None
            if not chunk:
                self.closed = True
                raise ChannelClosed("the other end closed the channel")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self) -> tuple[dict, list]:
        """One message: releases, syncs and flags applied; ``(header, buffers)`` returned."""
        (size,) = struct.unpack("!Q", self._recv_exact(8))
        if size > codec.MAX_FRAME:
            raise ProtocolError(f"message of {size} bytes is larger than {codec.MAX_FRAME}")
        msg, bufs = codec.unpack(self._recv_exact(size))
        if type(msg.get("op")) is not str:
            raise ProtocolError("message without an op")
        self._release(msg.get("free", []))
        self._forget_arrays(msg.get("drop"))
        self._apply_sync(msg.get("sync", []), bufs)
        self._incoming_flags(msg.get("flags"))
        return msg, bufs

    def _forget_arrays(self, drop) -> None:
        """The grader's tracked arrays that died: stop keeping them in step."""
        if drop is not None:
            raise ProtocolError("unexpected drop list")

    def decode(self, tree, bufs):
        """A value from a tree of one message (its own element budget)."""
        return codec.Decoder(self._dec, bufs).value(tree)

    # -- requests ----------------------------------------------------------
    def request(self, op: str, **fields):
        """Send a request and serve nested requests until its reply comes."""
        if self.closed:
            raise ChannelClosed("the other end is gone")
        if len(self._requests) >= MAX_NESTING:
            raise ProtocolError(f"calls nested more than {MAX_NESTING} deep")
        self._request_id += 1
        rid = self._request_id
        msg = {"op": op, "id": rid}
        self._requests.append({})
        try:
            encoder = codec.Encoder(self._enc_request)
            for key, value in fields.items():
                msg[key] = value if key == "h" else encoder.value(value)
            self.send(msg, encoder.bufs)
            while True:
                reply, bufs = self.recv()
                if reply["op"] != "reply":
                    self.serve_one(reply, bufs)
                    continue
                if reply.get("re") != rid:
                    raise ProtocolError("a reply to no pending request")
                if "raise" in reply:
                    raise self._exception(reply["raise"])
                return self.decode(reply.get("value"), bufs)
        finally:
            self._requests.pop()

    def _exception(self, info) -> BaseException:
        if type(info) is not dict or type(info.get("type")) is not str \
                or type(info.get("msg", "")) is not str \
                or type(info.get("base")) not in (str, type(None)):
            raise ProtocolError("malformed exception")
        name, text = info["type"][:MAX_NAME], info.get("msg", "")[:MAX_MESSAGE]
        if not name.isidentifier():
            name = "StudentError"
        if "base" not in info and name in SAFE_EXCEPTIONS:
            return SAFE_EXCEPTIONS[name](text)
        return self._student_exception(name, SAFE_EXCEPTIONS.get(info.get("base")))(text)

    def _student_exception(self, name: str, base) -> type:
        key = (name, base)
        cls = _EXCEPTION_TYPES.get(key)
        if cls is None:
            bases = (StudentError,) if base is None or base is Exception else (StudentError, base)
            try:
                cls = type(name, bases, {"__module__": "student"})
            except TypeError:
                cls = type(name, (StudentError,), {"__module__": "student"})
            if len(_EXCEPTION_TYPES) < MAX_EXCEPTION_TYPES:
                _EXCEPTION_TYPES[key] = cls
        return cls

    def serve_one(self, msg: dict, bufs: list) -> None:
        """Answer one request from the other end."""
        rid = msg.get("id")
        if type(rid) is not int:
            raise ProtocolError("request without an id")
        self._serving.append({})
        self._keep.append([])   # the arrays of the request live until its reply is synced
        try:
            encoder = codec.Encoder(self._enc_reply)
            try:
                value = self._handle(msg, codec.Decoder(self._dec, bufs))
                if self.on_served is not None:
                    self.on_served(value)
                self._origin = "attr" if msg["op"] == "getattr" else "value"
                reply = {"op": "reply", "re": rid, "value": encoder.value(value)}
            except (ChannelClosed, ChannelTimeout):
                raise
            except BaseException as exc:  # noqa: BLE001 - errors cross back
                self._reraise(exc)
                encoder.bufs.clear()
                reply = {"op": "reply", "re": rid, "raise": _exception_info(exc)}
            finally:
                self._origin = "value"
            self.send(reply, encoder.bufs)
        finally:
            self._serving.pop()
            self._keep.pop()

    def _reraise(self, exc: BaseException) -> None:
        """Errors that end this side instead of crossing back (the grader's)."""

    def _handle(self, msg, dec):
        op = msg["op"]
        if self.on_request is not None:
            custom = self.on_request(op, msg, lambda tree: dec.value(tree))
            if custom is not NotImplemented:
                return custom
        handler = getattr(self, _HANDLERS.get(op, "-"), None)
        if handler is None:
            raise ProtocolError(f"unknown request {op[:MAX_NAME]!r}")
        handle = msg.get("h")
        if type(handle) is not list or len(handle) != 2 or handle[0] != self.side \
                or handle[1] not in self.objects:
            raise ProtocolError("unknown handle")
        return handler(handle[1], self.objects[handle[1]], msg, dec)

    def _check_call(self, hid, obj, what: str) -> None:
        """Refuse calls the other end may not make (the grader's rule)."""

    def _check_attr(self, name: str) -> None:
        """Refuse attribute names the other end may not use (the grader's rule)."""

    def _serve_call(self, hid, obj, msg, dec):
        self._check_call(hid, obj, "a grader function reached through an attribute")
        args, kwargs = dec.value(msg.get("args")), dec.value(msg.get("kwargs"))
        if type(args) is not tuple or type(kwargs) is not dict \
                or any(type(k) is not str for k in kwargs):
            raise ProtocolError("malformed call")
        with np.errstate(**self._errstate(dec.value(msg.get("err")))):
            return obj(*args, **kwargs)

    def _errstate(self, err) -> dict:
        return {}

    def _serve_attr(self, hid, obj, msg, dec):
        name = dec.value(msg.get("name"))
        if type(name) is not str:
            raise ProtocolError("attribute name is not a string")
        self._check_attr(name)
        if msg["op"] == "getattr":
            return getattr(obj, name)
        setattr(obj, name, dec.value(msg.get("value")))
        return None

    def _serve_operator(self, hid, obj, msg, dec):
        name = dec.value(msg.get("name"))
        if name not in OPERATORS:
            raise ProtocolError("unknown operator")
        self._check_call(hid, obj, "an operator of a grader object reached through an attribute")
        if name in _UNARY:
            return OPERATORS[name](obj)
        other = dec.value(msg.get("other"))
        return OPERATORS[name](other, obj) if dec.value(msg.get("reflected")) is True \
            else OPERATORS[name](obj, other)

    def _serve_builtin(self, hid, obj, msg, dec):
        op = msg["op"]
        if op == "repr":
            return repr(obj)[:MAX_MESSAGE]
        return {"len": len, "iter": iter, "next": next}[op](obj)

    def _serve_item(self, hid, obj, msg, dec):
        key = dec.value(msg.get("key"))
        if msg["op"] == "getitem":
            return obj[key]
        obj[key] = dec.value(msg.get("value"))
        return None


def _exception_info(exc: BaseException) -> dict:
    cls = type(exc)
    info = {"type": _text(cls.__name__, MAX_NAME), "msg": _text(exc)}
    if not (cls.__module__ == "builtins" and cls.__name__ in SAFE_EXCEPTIONS):
        info["base"] = next((c.__name__ for c in cls.__mro__[1:] if c.__module__ == "builtins"
                             and c.__name__ in SAFE_EXCEPTIONS), None)
    return info


_HANDLERS = {"call": "_serve_call", "getattr": "_serve_attr", "setattr": "_serve_attr",
             "op": "_serve_operator", "getitem": "_serve_item", "setitem": "_serve_item",
             "len": "_serve_builtin", "iter": "_serve_builtin", "next": "_serve_builtin",
             "repr": "_serve_builtin"}


class GraderChannel(Channel):
    """The grader's end: trusts nothing it receives.

    ``writable(array) -> bool`` says which arrays the student's changes may
    reach (default: none); every other array crosses as a copy. Flags the
    student process attaches, and what this end itself refuses, are capped
    (:data:`MAX_FLAGS_PER_MESSAGE` per message, :data:`MAX_FLAGS` distinct,
    :data:`MAX_FLAG_CHARS` characters each) and handed out by :meth:`take_flags`.
    """

    side, other_side = "g", "s"

    def __init__(self, sock: socket.socket, writable=None):
        super().__init__(sock)
        self.writable = writable
        self.flags = Flags()

    # -- flags -------------------------------------------------------------
    def note(self, text: str) -> None:
        """Record a flag (an attempt to game the checks) seen on this channel."""
        self.flags.add(text)

    def take_flags(self) -> list[str]:
        """The flags seen since the last call (at most :data:`MAX_FLAGS` per channel)."""
        return self.flags.take()

    def _incoming_flags(self, flags) -> None:
        if flags is None:
            return
        if type(flags) is not list or len(flags) > MAX_FLAGS_PER_MESSAGE \
                or any(type(f) is not str for f in flags):
            raise ProtocolError("malformed flags")
        for text in flags:
            self.note(text)

    # -- arrays ------------------------------------------------------------
    def _encode_array_request(self, a, bufs):
        if self.writable is None or not self.writable(a):
            return codec.array_tree("$v", 1, a, bufs)
        aid = self.tracked.aid_of(a)
        if aid is None:
            aid = f"g{self._new_id()}"
            self.tracked.add(aid, a)
        else:
            self.tracked.synced(aid, a)
        return codec.array_tree("$a", aid, a, bufs)

    _encode_array_reply = _encode_array_request

    def _unknown_array(self, aid: str) -> None:
        number = aid[1:]
        if aid[:1] != "g" or not number.isdigit() or int(number) > self._next:
            raise ProtocolError("sync of an array the grader never sent")

    # -- serving the student's requests --------------------------------------
    def _reraise(self, exc):
        if isinstance(exc, (ProtocolError, SystemExit, KeyboardInterrupt)):
            raise exc

    def _check_call(self, hid, obj, what):
        if self.origins.get(hid) == "attr":
            self.note(f"called {what} "
                      f"({_text(getattr(obj, '__qualname__', type(obj).__name__), MAX_NAME)})")
            raise Forbidden("graded answers may not call the grader's functions")

    def _check_attr(self, name):
        if name.startswith("__"):
            self.note(f"read the grader's attribute {name[:MAX_NAME]}")
            raise Forbidden(f"attribute {name[:MAX_NAME]} is not available to graded answers")

    def _serve_attr(self, hid, obj, msg, dec):
        value = super()._serve_attr(hid, obj, msg, dec)
        if type(value).__name__ == "module":
            raise Forbidden("modules are not available to graded answers")
        return value


class StudentChannel(Channel):
    """The student process's end: flags attached to its messages, numpy error state obeyed."""

    side, other_side = "s", "g"

    def __init__(self, sock: socket.socket):
        super().__init__(sock)
        self.flags = Flags()

    def flag(self, text: str) -> None:
        """Report an attempt to game the checks to the grader (with the next message)."""
        self.flags.add(text)

    def _outgoing_flags(self, msg):
        pending = self.flags.take()
        if pending:
            msg["flags"] = pending

    def _encode_array_request(self, a, bufs):
        # an argument of a call to a grader function: its changes come back with the reply
        aid = f"s{self._new_id()}"
        self._requests[-1][aid] = a
        return codec.array_tree("$a", aid, a, bufs)

    def _encode_array_reply(self, a, bufs):
        return codec.array_tree("$v", 1, a, bufs)

    def _encode_generator_request(self, g):
        # a generator passed to a grader function: its draws there come back with the reply
        gid = f"s{self._new_id()}"
        self._requests[-1][gid] = g
        return gid

    def _forget_arrays(self, drop) -> None:
        if drop is None:
            return
        if type(drop) is not list or any(type(aid) is not str for aid in drop):
            raise ProtocolError("malformed drop list")
        for aid in drop:
            self.tracked.forget(aid)

    def _decode_array(self, tree, bufs):
        aid = tree.get("$a")
        if type(aid) is not str or not aid.startswith("g"):
            raise ProtocolError("unexpected tracked array")
        fresh = codec.array_from(tree, bufs)
        local = self.tracked.get(aid)
        if local is not None and local.shape == fresh.shape and local.dtype == fresh.dtype \
                and local.flags.writeable:
            np.copyto(local, fresh)
            self.tracked.synced(aid, local)
        else:
            local = fresh
            self.tracked.add(aid, local)
        if self._keep:
            self._keep[-1].append(local)
        return local

    def _errstate(self, err):
        if type(err) is not dict:
            return {}
        return {k: v for k, v in err.items() if k in ("divide", "over", "under", "invalid")
                and v in ("ignore", "warn", "raise", "print")}


class Proxy:
    """An object that lives at the other end of a :class:`Channel`.

    Calls, attribute and item access, iteration and the arithmetic operators
    (``+ - * / // % ** @``, unary ``- +``, ``abs`` and the reflected forms) run
    where the object lives. Comparisons and truth are this proxy's own: ``==``
    is identity (each remote object has one proxy while it is alive) and a
    proxy is always true, so the grader never runs a student's ``__eq__`` or
    ``__bool__``.
    """

    __slots__ = ("_ch", "_h", "_name", "__name__", "__weakref__")
    __array_ufunc__ = None   # numpy defers to the reflected operators below

    def __init__(self, ch, handle, name):
        object.__setattr__(self, "_ch", ch)
        object.__setattr__(self, "_h", handle)
        object.__setattr__(self, "_name", name)

    def __call__(self, *args, **kwargs):
        # the caller's numpy error state travels with the call, as if the callee ran
        # in the caller's process (a test's np.errstate(over="raise") reaches the answer)
        return self._ch.request("call", h=self._h, args=args, kwargs=kwargs, err=np.geterr())

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ch.request("getattr", h=self._h, name=name)

    def __setattr__(self, name, value):
        self._ch.request("setattr", h=self._h, name=name, value=value)

    def __getitem__(self, key):
        return self._ch.request("getitem", h=self._h, key=key)

    def __setitem__(self, key, value):
        self._ch.request("setitem", h=self._h, key=key, value=value)

    def __len__(self):
        n = self._ch.request("len", h=self._h)
        if type(n) is not int or n < 0:
            raise TypeError("len() of the object is not a non-negative int")
        return n

    def __iter__(self):
        return _RemoteIterator(self._ch.request("iter", h=self._h))

    def __bool__(self):
        return True

    def __repr__(self):
        return f"<{self._name} object>"

    def __reduce__(self):
        raise TypeError("a proxy cannot be pickled")


def _forward(name: str, reflected: bool = False):
    if name in _UNARY:
        def unary(self):
            return self._ch.request("op", h=self._h, name=name)
        return unary

    def binary(self, other):
        return self._ch.request("op", h=self._h, name=name, other=other, reflected=reflected)
    return binary


for _name in OPERATORS:
    setattr(Proxy, f"__{_name}__", _forward(_name))
    if _name not in _UNARY:
        setattr(Proxy, f"__r{_name}__", _forward(_name, reflected=True))


class _RemoteIterator:
    """Iterates a remote iterator (a student's generator, say) one item per request."""

    def __init__(self, remote):
        self.remote = remote

    def __iter__(self):
        return self

    def __next__(self):
        if not isinstance(self.remote, Proxy):
            raise TypeError("iter() did not return an iterator")
        return self.remote._ch.request("next", h=self.remote._h)
