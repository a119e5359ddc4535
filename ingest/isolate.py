"""Third-party parsers (PDF, DOCX, HTML) run in a child process with CPU, memory and wall-clock limits.

A 7.9 KB PDF kept pypdf busy for 65 s, holding the only job thread; a parser meeting hostile input can also
allocate without bound or never return. In a child, the worst a document can do is fail with a reason: it is killed
at the wall-clock limit, the kernel stops it at the CPU limit (RLIMIT_CPU) and refuses its allocations past the
memory limit (RLIMIT_AS). Children are forked from a forkserver (one clean, single-threaded process that has
imported the readers), so a child is cheap (milliseconds) and never inherits the server's threads or locks.
"""

import multiprocessing
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from assistant.errors import LoadError

Reader = Callable[[bytes, str], Any]


@dataclass(frozen=True)
class ParseLimits:
    """What one document's parse may use. A 300-page report parses in a few seconds and well under 500 MB."""

    wall_s: float = 60.0
    cpu_s: int = 60
    memory_mb: int = 2048


LIMITS = ParseLimits()
_context_lock = threading.Lock()
_context: Any = None


def _forkserver() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            # The server imports the readers' libraries once, so each child starts with them. `__main__` too: a
            # child then skips importing the program's main module again (multiprocessing's spawn preparation).
            context.set_forkserver_preload(["__main__", "ingest.load", "pypdf", "docx", "trafilatura"])
            _context = context
    return _context


def run_reader(reader: Reader, data: bytes, source: str, limits: ParseLimits | None = None) -> Any:
    """`reader(data, source)` in a child process within `limits`; raises `LoadError` with the reason when the
    reader fails or a limit stops it."""
    limits = limits or LIMITS
    context = _forkserver()
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sending, reader, data, source, limits), daemon=True)
    child.start()
    sending.close()
    try:
        if not receiving.poll(limits.wall_s):
            raise LoadError(f"{source}: parsing took longer than {limits.wall_s:g} s and was stopped")
        outcome, value = receiving.recv()
    except EOFError:  # the child died without a word: a limit's signal, or the parser crashed the interpreter
        child.join(5)
        raise LoadError(f"{source}: {_death(child.exitcode, limits)}") from None
    finally:
        receiving.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if outcome != "ok":
        raise LoadError(value if str(value).startswith(source) else f"{source}: {value}")
    return value


def _death(exitcode: int | None, limits: ParseLimits) -> str:
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return f"parsing used more than {limits.cpu_s} s of CPU and was stopped"
    return f"the parser crashed (exit code {exitcode})"


def _child(sending: Connection, reader: Reader, data: bytes, source: str, limits: ParseLimits) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        result: tuple[str, Any] = ("ok", reader(data, source))
    except LoadError as exc:
        result = ("error", str(exc))
    except MemoryError:
        result = ("error", f"parsing needed more than {limits.memory_mb} MB of memory and was stopped")
    except Exception as exc:  # a parser meeting hostile input can raise anything
        result = ("error", f"could not be parsed ({type(exc).__name__}: {str(exc)[:200]})")
    sending.send(result)
    sending.close()
