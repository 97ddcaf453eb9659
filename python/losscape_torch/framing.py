"""Message framing: u32 LE header length, UTF-8 JSON header, then the raw little-endian frames
listed in header["frames"] ({dtype: "f32" | "f64", length}). Frames are numpy arrays here.

A frame listed with {"slot": k, "offset": o} is not in the stream: its bytes are at offset o of
frame slot k, a shared-memory file the client opened and passed as an extra fd
(docs/torch-worker-protocol.md, "Frame slots"; src/engine/torch/frameSlots.ts)."""

import json
import struct
import sys

import numpy as np

from .frame_slots import MIN_BYTES, SlotError

DTYPES = {"f32": np.dtype("<f4"), "f64": np.dtype("<f8")}
CODES = {np.dtype("float32"): "f32", np.dtype("float64"): "f64"}


class ProtocolError(Exception):
    pass


F_SETPIPE_SZ = 1031  # Linux fcntl(2); not exported by Python's fcntl module before 3.10


def widen_pipe(fd, size=1 << 20):
    """Linux: a pipe's buffer raised from 64 KiB to `size` (capped by /proc/sys/fs/pipe-max-size),
    so a vector of megabytes crosses in fewer wake-ups of reader and writer. Anything else (not
    a pipe, another OS, a lower cap) leaves it as it is."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import fcntl

        try:
            with open("/proc/sys/fs/pipe-max-size") as f:
                size = min(size, int(f.read()))
        except (OSError, ValueError):
            pass
        fcntl.fcntl(fd, F_SETPIPE_SZ, size)
    except (OSError, ValueError, ImportError):
        pass


def _read_exact(stream, n):
    chunks = []
    while n > 0:
        b = stream.read(n)
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def _read_into(stream, nbytes):
    """nbytes into one fresh buffer, without intermediate copies (frames can be 100 MB)."""
    buf = bytearray(nbytes)
    view = memoryview(buf)
    got = 0
    while got < nbytes:
        k = stream.readinto(view[got:])
        if not k:
            return None
        got += k
    return buf


def read_message(stream, slots=(), borrows=None):
    """(header, frames) or None at end of stream. `slots`: the FrameSlots (frame_slots.py), by
    index. `borrows(header)` true: the request's slot frames are views of the slot (FrameSlot.view),
    which its handler must be done with before its reply is written."""
    raw = _read_exact(stream, 4)
    if raw is None:
        return None
    (hlen,) = struct.unpack("<I", raw)
    hbytes = _read_exact(stream, hlen)
    if hbytes is None:
        return None
    header = json.loads(hbytes.decode("utf-8"))
    borrowed = bool(borrows and isinstance(header, dict) and borrows(header))
    frames = []
    for f in header.get("frames") or []:
        dt = DTYPES.get(f.get("dtype"))
        if dt is None:
            raise ProtocolError(f"unknown frame dtype {f.get('dtype')!r}")
        n = int(f["length"])
        if "slot" in f:
            k = f["slot"]
            if not isinstance(k, int) or not 0 <= k < len(slots):
                raise ProtocolError(f"a frame names slot {k!r}, which this worker was not given")
            try:
                slot = slots[k]
                frames.append((slot.view if borrowed else slot.read)(dt, n, int(f.get("offset", 0))))
            except (SlotError, ValueError) as e:
                raise ProtocolError(str(e))
            continue
        data = _read_into(stream, n * dt.itemsize) if n else bytearray()
        if data is None:
            return None
        frames.append(np.frombuffer(data, dtype=dt))
    return header, frames


def _arrays(frames):
    """Each frame as a flat little-endian float32/float64 array, and its descriptor."""
    arrays = []
    descs = []
    for a in frames:
        a = np.asarray(a)
        if a.dtype not in CODES:
            a = a.astype(np.float64)
        a = np.ascontiguousarray(a.reshape(-1), dtype=a.dtype.newbyteorder("<"))
        arrays.append(a)
        descs.append({"dtype": CODES[np.dtype(a.dtype.name)], "length": int(a.size)})
    return arrays, descs


def _head(header, descs):
    header = dict(sanitize(header))
    header["frames"] = descs
    h = json.dumps(header, allow_nan=False).encode("utf-8")
    return struct.pack("<I", len(h)) + h


def _prepare(header, frames):
    arrays, descs = _arrays(frames)
    return _head(header, descs), arrays


def encode_message(header, frames=()):
    """The bytes of one message; frames are array-likes of float32 or float64."""
    head, arrays = _prepare(header, frames)
    return b"".join([head] + [a.tobytes() for a in arrays])


def sanitize(value):
    """JSON has no NaN/Infinity: non-finite numbers travel as the strings "NaN", "Infinity",
    "-Infinity" (the protocol's rule; vectors travel as frames and need none of this)."""
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    return value


def _to_slot(slot, index, arrays, descs):
    """The big frames written into the slot and their descriptors marked with where they are;
    False when the slot refuses (shared memory full): the caller sends every frame in the
    stream instead."""
    big = [a for a in arrays if a.nbytes >= MIN_BYTES]
    if not big:
        return True
    try:
        offsets = iter(slot.write(big))
    except (OSError, ValueError, SlotError):
        return False
    for a, d in zip(arrays, descs):
        if a.nbytes >= MIN_BYTES:
            d.update(slot=index, offset=next(offsets))
    return True


def write_message(stream, header, frames=(), slot=None, index=None):
    """Writes the header, then each frame's memory as it is (no copy into one message); with a
    slot (a FrameSlot and its index), the big frames go into it instead of the stream."""
    arrays, descs = _arrays(frames)
    if slot is not None and arrays and _to_slot(slot, index, arrays, descs):
        arrays = [a for a, d in zip(arrays, descs) if "slot" not in d]
    head = _head(header, descs)
    stream.write(head)
    for a in arrays:
        if a.size:
            stream.write(memoryview(a).cast("B"))
    stream.flush()
