"""Plain data as bytes, both ways across the sandbox boundary, without pickle.

A value is one tag byte and its payload: None, bools, ints (any size), floats,
complex numbers, strings, numeric NumPy arrays (dtype string, shape, raw bytes)
and NumPy scalars, lists, tuples, dicts with str or int keys, and ``Opaque``
handles. Decoding builds only those types, checks every length against the
bytes actually there and refuses anything else, so a hostile worker can send
wrong data but never make the grader run code.

Part of the worker-side runtime (grader/runtime/): it imports nothing outside this folder.
"""

from __future__ import annotations

import struct
import time
from typing import Any

import numpy as np

from .plain import MAX_DEPTH, NUMERIC_KINDS, Opaque

MAX_FRAME = 64 << 20  # bytes in one message: 64 MiB
MAX_ITEMS = 1 << 20  # values in one message (an array counts as one)
DECODE_SECONDS = 5.0  # the longest a decoding may take


class CodecError(ValueError):
    """The bytes are not a value this codec writes."""


_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")


def encode(value: Any) -> bytes:
    """``value`` (plain data and Opaque handles only) as bytes; TypeError for anything else."""
    out: list[bytes] = []
    _encode(value, out, 0)
    return b"".join(out)


def _text(s: str) -> bytes:
    b = s.encode("utf-8", "surrogatepass")
    return _U32.pack(len(b)) + b


def _encode(value: Any, out: list[bytes], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TypeError(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None:
        out.append(b"N")
    elif kind is bool:
        out.append(b"T" if value else b"F")
    elif kind is int:
        out.append(b"I" + _text(str(value)))
    elif kind is float:
        out.append(b"D" + _F64.pack(value))
    elif kind is complex:
        out.append(b"C" + _C128.pack(value.real, value.imag))
    elif kind is str:
        out.append(b"S" + _text(value))
    elif kind is np.ndarray or (isinstance(value, np.generic) and kind.__module__ == "numpy"):
        array = np.asarray(value)
        if array.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"an array of dtype {array.dtype} is not plain data")
        if array.dtype.fields is not None or array.dtype.hasobject:
            raise TypeError("a structured array is not plain data")
        array = np.array(array, copy=True, order="C")  # (ascontiguousarray makes 0-d 1-d)
        header = b"Y" if kind is not np.ndarray else b"A"  # Y: a NumPy scalar
        out.append(header + _text(array.dtype.str) + _U32.pack(array.ndim))
        out.extend(_U32.pack(int(n)) for n in array.shape)
        data = array.tobytes()
        out.append(struct.pack("<Q", len(data)) + data)
    elif kind is list or kind is tuple:
        out.append((b"L" if kind is list else b"U") + _U32.pack(len(value)))
        for item in value:
            _encode(item, out, depth + 1)
    elif kind is dict:
        out.append(b"M" + _U32.pack(len(value)))
        for k, v in value.items():
            if type(k) not in (str, int):
                raise TypeError("dict keys must be str or int")
            _encode(k, out, depth + 1)
            _encode(v, out, depth + 1)
    elif kind is Opaque:
        out.append(b"O" + _text(str(value.ident)) + _text(value.type_name))
    else:
        raise TypeError(f"a {kind.__qualname__} is not plain data")


class _Reader:
    def __init__(self, data: bytes, max_items: int, seconds: float) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.items_left = max_items
        self.deadline = time.monotonic() + seconds

    def count(self, n: int = 1) -> None:
        """Spends ``n`` of the message's value budget (and checks the clock now and then)."""
        self.items_left -= n
        if self.items_left < 0:
            raise CodecError("too many values in one message")
        if self.items_left % 4096 == 0 and time.monotonic() > self.deadline:
            raise CodecError("the message took too long to decode")

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise CodecError("truncated message")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u32(self) -> int:
        return _U32.unpack(self.take(4))[0]

    def text(self, limit: int = MAX_FRAME) -> str:
        n = self.u32()
        if n > limit:
            raise CodecError("string too long")
        try:
            return bytes(self.take(n)).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise CodecError("invalid text") from exc


def decode(data: bytes, *, max_items: int = MAX_ITEMS, seconds: float = DECODE_SECONDS) -> Any:
    """The value ``encode`` wrote; CodecError for bytes it could not have written, for more
    than ``max_items`` values, or for a decoding that takes longer than ``seconds``: a hostile
    worker can make neither the grader's memory nor its time grow past the frame it sent."""
    if len(data) > MAX_FRAME:
        raise CodecError("message over the size limit")
    reader = _Reader(data, max_items, seconds)
    value = _decode(reader, 0)
    if reader.pos != len(reader.data):
        raise CodecError("trailing bytes after the value")
    return value


def _decode(r: _Reader, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError("nested too deep")
    r.count()
    tag = bytes(r.take(1))
    if tag == b"N":
        return None
    if tag in (b"T", b"F"):
        return tag == b"T"
    if tag == b"I":
        text = r.text(limit=10_000)
        if not text.lstrip("-").isdigit():
            raise CodecError("invalid int")
        return int(text)
    if tag == b"D":
        return _F64.unpack(r.take(8))[0]
    if tag == b"C":
        re, im = _C128.unpack(r.take(16))
        return complex(re, im)
    if tag == b"S":
        return r.text()
    if tag in (b"A", b"Y"):
        dtype_text = r.text(limit=16)
        try:
            dtype = np.dtype(dtype_text)
        except TypeError as exc:
            raise CodecError(f"invalid dtype {dtype_text!r}") from exc
        if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.hasobject:
            raise CodecError(f"dtype {dtype_text!r} is not plain data")
        ndim = r.u32()
        if ndim > 32:
            raise CodecError("too many dimensions")
        shape = tuple(r.u32() for _ in range(ndim))
        (size,) = struct.unpack("<Q", r.take(8))
        if size != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise CodecError("array size does not match its shape")
        array = np.frombuffer(bytes(r.take(size)), dtype=dtype).reshape(shape).copy()
        if tag == b"Y":
            if ndim != 0:
                raise CodecError("a scalar has no shape")
            return array[()]
        return array
    if tag in (b"L", b"U"):
        n = r.u32()
        if n > len(r.data) - r.pos:  # every item takes at least one byte
            raise CodecError("truncated message")
        if n > r.items_left:
            raise CodecError("too many values in one message")
        items = [_decode(r, depth + 1) for _ in range(n)]
        return items if tag == b"L" else tuple(items)
    if tag == b"M":
        n = r.u32()
        if n > len(r.data) - r.pos:
            raise CodecError("truncated message")
        if 2 * n > r.items_left:
            raise CodecError("too many values in one message")
        result = {}
        for _ in range(n):
            key = _decode(r, depth + 1)
            if type(key) not in (str, int):
                raise CodecError("dict keys must be str or int")
            result[key] = _decode(r, depth + 1)
        return result
    if tag == b"O":
        ident = r.text(limit=40)
        if not ident.isdigit():
            raise CodecError("invalid handle")
        return Opaque(int(ident), r.text(limit=300))
    raise CodecError(f"unknown tag {tag!r}")


# -- frames on a pipe ----------------------------------------------------------------------------
def frame(value: Any) -> bytes:
    """``value`` encoded and prefixed with its length, ready to write to a pipe."""
    body = encode(value)
    if len(body) > MAX_FRAME:
        raise TypeError(f"a message of {len(body)} bytes is over the {MAX_FRAME}-byte limit")
    return struct.pack("<Q", len(body)) + body
