"""Frame slots: shared-memory files that carry big frames beside the stdin/stdout pipes
(docs/torch-worker-protocol.md, "Frame slots"; the client's side is src/engine/torch/frameSlots.ts).

The client opens each slot in /dev/shm, unlinks it, and passes it as an extra fd, so nothing is
left behind however either process ends. The worker maps a slot and copies through the mapping:
on the VMs we measured, a copy through a mapping ran at memory speed (0.17 ms for 4 MB) where
pread into an existing buffer took 2 ms. A request's frames are copied out of its slot before it
is queued, so the reply can be written into the same slot — except where the request only
borrows them (view(): a Hessian-vector product reads its vectors and is done with them before
its reply is written; the copy was ~0.6 ms of a 1M-parameter product's ~5 ms outside the
compute)."""

import mmap
import os

import numpy as np

MIN_BYTES = 64 * 1024  # smaller frames stay in the stream, as the client does


class SlotError(Exception):
    pass


class FrameSlot:
    def __init__(self, fd):
        self.fd = fd
        self.map = None
        self.size = 0

    def _mapping(self, need):
        """The slot mapped whole, re-mapped when the file's size changed (the client truncates a
        slot that held a large reply). Never touches bytes past the file's end (SIGBUS)."""
        size = os.fstat(self.fd).st_size
        if size < need:
            raise SlotError(f"frame slot holds {size} bytes, the frame needs {need}")
        if self.map is None or size != self.size:
            if self.map is not None:
                try:
                    self.map.close()
                except BufferError:
                    pass  # a borrowed frame still views it: the old mapping goes with the view
            self.map = mmap.mmap(self.fd, size)
            self.size = size
        return self.map

    def read(self, dtype, n, offset):
        """n elements at `offset`, copied into an array the caller owns."""
        m = self._mapping(offset + n * dtype.itemsize)
        return np.frombuffer(m, dtype=dtype, count=n, offset=offset).copy()

    def view(self, dtype, n, offset):
        """n elements at `offset` as a view of the mapping, for a frame that its request only
        borrows (read before the reply is written into the same slot, not kept); a copy when the
        offset is not aligned to the element."""
        if offset % dtype.itemsize:
            return self.read(dtype, n, offset)
        m = self._mapping(offset + n * dtype.itemsize)
        return np.frombuffer(m, dtype=dtype, count=n, offset=offset)

    def write(self, arrays):
        """Writes the arrays back to back from offset 0; returns their offsets. Raises OSError
        when shared memory cannot hold them (the caller sends them in the stream instead):
        posix_fallocate reserves the pages first, so a full /dev/shm is an error, not a SIGBUS."""
        total = sum(a.nbytes for a in arrays)
        if os.fstat(self.fd).st_size < total:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(self.fd, 0, total)
            else:
                os.ftruncate(self.fd, total)
        m = self._mapping(total)
        offsets = []
        at = 0
        for a in arrays:
            np.frombuffer(m, dtype=np.uint8, count=a.nbytes, offset=at)[:] = a.view(np.uint8).reshape(-1)
            offsets.append(at)
            at += a.nbytes
        return offsets

    def close(self):
        if self.map is not None:
            self.map.close()
            self.map = None
