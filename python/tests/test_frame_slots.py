"""Frame slots (frame_slots.py): big frames in a shared-memory file beside the pipe, as the
engine sends them (src/engine/torch/frameSlots.ts)."""
import io
import os
import tempfile

import numpy as np
import pytest

from helpers import data
from losscape_torch.client import Client, f32, f64
from losscape_torch.frame_slots import MIN_BYTES, FrameSlot
from losscape_torch.framing import ProtocolError, read_message, write_message


@pytest.fixture
def slot_fd():
    fd, name = tempfile.mkstemp(prefix="losscape-test-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    os.unlink(name)
    yield fd
    os.close(fd)


def test_big_frames_go_through_the_slot_small_ones_through_the_stream(slot_fd):
    big = np.random.default_rng(0).normal(size=MIN_BYTES // 4).astype(np.float32)  # exactly MIN_BYTES
    small = np.arange(7, dtype=np.float64)
    big64 = np.random.default_rng(1).normal(size=MIN_BYTES // 8 + 3)
    slot = FrameSlot(slot_fd)
    stream = io.BytesIO()
    write_message(stream, {"id": 1, "result": {}}, [big, small, big64], slot, 2)
    raw = stream.getvalue()
    assert len(raw) < 2 * 1024, "the big frames must not be in the stream"
    stream.seek(0)
    reader_slot = FrameSlot(slot_fd)  # the other process's mapping of the same file
    header, frames = read_message(stream, [None, None, reader_slot])
    assert header["frames"][0] == {"dtype": "f32", "length": big.size, "slot": 2, "offset": 0}
    assert header["frames"][1] == {"dtype": "f64", "length": 7}
    assert header["frames"][2] == {"dtype": "f64", "length": big64.size, "slot": 2, "offset": big.nbytes}
    assert frames[0].dtype == np.float32 and np.array_equal(frames[0], big)
    assert np.array_equal(frames[1], small) and np.array_equal(frames[2], big64)
    # The arrays read are copies: the slot can be written again at once.
    slot.write([np.zeros_like(big)])
    assert np.array_equal(frames[0], big)


def test_a_slot_that_refuses_the_write_sends_the_frames_in_the_stream(slot_fd):
    big = np.ones(MIN_BYTES, dtype=np.float32)
    ro = os.open(f"/proc/self/fd/{slot_fd}", os.O_RDONLY)
    try:
        stream = io.BytesIO()
        write_message(stream, {"id": 1, "result": {}}, [big], FrameSlot(ro), 0)
    finally:
        os.close(ro)
    stream.seek(0)
    header, frames = read_message(stream)  # no slots needed: everything is inline
    assert "slot" not in header["frames"][0] and np.array_equal(frames[0], big)


def test_a_frame_naming_a_missing_or_short_slot_is_a_protocol_error(slot_fd):
    big = np.ones(MIN_BYTES, dtype=np.float32)
    stream = io.BytesIO()
    write_message(stream, {"id": 1}, [big], FrameSlot(slot_fd), 1)
    stream.seek(0)
    with pytest.raises(ProtocolError, match="slot 1"):
        read_message(stream, [FrameSlot(slot_fd)])  # only slot 0 given
    os.ftruncate(slot_fd, 100)
    stream.seek(0)
    with pytest.raises(ProtocolError, match="needs"):
        read_message(stream, [None, FrameSlot(slot_fd)])


def test_the_mapping_follows_the_file_when_the_client_truncates_it(slot_fd):
    slot = FrameSlot(slot_fd)
    a = np.arange(3 * MIN_BYTES, dtype=np.float32)
    slot.write([a])
    assert np.array_equal(slot.read(np.dtype("<f4"), a.size, 0), a)
    os.ftruncate(slot_fd, 0)  # the engine truncates a slot that held a large reply
    b = np.arange(MIN_BYTES, dtype=np.float64)[::-1].copy()
    slot.write([b])
    assert os.fstat(slot_fd).st_size == b.nbytes
    assert np.array_equal(slot.read(np.dtype("<f8"), b.size, 0), b)


def test_a_borrowing_request_reads_views_of_the_slot_and_a_remap_keeps_them(slot_fd):
    """read_message(borrows=...) hands a product's vectors over as views of the slot (no copy);
    other requests get copies. Growing the slot while a view lives re-maps it without an error,
    and the view still reads the file (through the old mapping, kept alive by the view)."""
    big = np.arange(MIN_BYTES // 4, dtype=np.float32)
    for method, borrowed in (("matmat", True), ("store", False)):
        stream = io.BytesIO()
        write_message(stream, {"id": 1, "method": method}, [big], FrameSlot(slot_fd), 0)
        stream.seek(0)
        reader = FrameSlot(slot_fd)
        _, frames = read_message(stream, [reader], borrows=lambda h: h.get("method") == "matmat")
        assert np.array_equal(frames[0], big)
        FrameSlot(slot_fd).write([big[::-1].copy()])  # the next use of the slot
        assert np.array_equal(frames[0], big[::-1] if borrowed else big)
        if borrowed:
            reader.write([np.full(4 * big.size, 7, dtype=np.float32)])  # grows the file: a new mapping
            assert reader.size == 16 * big.size
            assert np.all(frames[0] == 7)
    # A frame at an offset its dtype is not aligned to is copied.
    assert not np.shares_memory(FrameSlot(slot_fd).view(np.dtype("<f8"), 4, 4), FrameSlot(slot_fd).view(np.dtype("<f8"), 4, 8))


WIDE = """import torch
from torch import nn


def wide():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 4000), nn.Tanh(), nn.Linear(4000, 3))
"""


def test_a_worker_with_slots_answers_exactly_as_through_the_pipe(tmp_path):
    """Gradient and Hessian products of a 40k-parameter model (frames of 256 KB), through
    slots and through the pipe: the same bits."""
    (tmp_path / "wide.py").write_text(WIDE)
    x, y = data(n=40)
    params = {
        "model": {"kind": "module", "file": str(tmp_path / "wide.py"), "name": "wide"},
        "data": {"kind": "frames", "xShape": list(x.shape), "yShape": list(y.shape)},
        "loss": {"kind": "builtin", "name": "categorical_crossentropy"},
        "dtype": "float64", "device": "cpu", "batchSize": 16,
    }
    answers = []
    for slots in (0, 2):
        with Client(slots=slots) as c:
            res, _ = c.call("load", params, [f64(x), f32(y)], slot=0 if slots else None)
            dim = res["dim"]
            assert dim * 8 >= MIN_BYTES
            rng = np.random.default_rng(3)
            vs = [f64(rng.normal(size=dim)) for _ in range(3)]
            _, hv = c.call("matmat", {"operator": "hessian"}, vs, slot=1 if slots else None)
            _, g = c.call("grad", {}, (), slot=0 if slots else None)
            if slots:
                # The slots really carried them: three vectors in, three out, then the gradient.
                assert os.fstat(c.slot_fds[1]).st_size >= 3 * dim * 8
                assert os.fstat(c.slot_fds[0]).st_size >= dim * 8
            answers.append(hv + g)
    for a, b in zip(*answers):
        assert a.dtype == b.dtype and np.array_equal(a, b)
