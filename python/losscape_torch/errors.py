"""The error kinds of the protocol (docs/torch-worker-protocol.md, "Messages")."""


class WorkerError(Exception):
    kind = "internal"

    def __init__(self, message, file=None):
        super().__init__(message)
        self.message = message
        self.file = file

    def to_json(self):
        out = {"kind": self.kind, "message": self.message}
        if self.file is not None:
            out["file"] = self.file
        return out


class InputError(WorkerError):
    """The user's input is wrong; `message` is one line naming the file."""

    kind = "input"

    def __init__(self, file, what):
        super().__init__(f"{file}: {what}" if file else what, file)


class EnvironmentProblem(WorkerError):
    kind = "environment"


class Cancelled(WorkerError):
    kind = "cancelled"

    def __init__(self):
        super().__init__("cancelled")


def describe(exc):
    """One line for an exception raised by user code: its type and first message line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
