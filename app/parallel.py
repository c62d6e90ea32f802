"""Run one pure function over many items in worker processes, the results in order.

A build renders thousands of articles and compresses hundreds of blocks, each
a pure function of its input: on a machine with two cores, two processes do
it in about half the time, and because every result is the function's of its
item, taken in the items' order, the output is the same byte for byte
whatever the number of processes. At most WINDOW chunks per worker are in
flight (CHUNK items a message), so memory stays bounded however many there are.

Workers are forked: spawning would import the caller's main module again in
each worker, which an unguarded script cannot survive (the pool starts
workers that die, forever). A fork copies only the calling thread, so a
process with other threads runs everything itself instead; the workers never
touch what the parent has open (a bundle being written), and leave with
os._exit, closing nothing of it. A worker that dies (killed for memory, say)
fails the build with BrokenProcessPool instead of leaving it waiting.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

CHUNK = 8
WINDOW = 4
# A worker's state, made once in it by `make` (see ordered_map).
_job: tuple[Callable[[Any, Any], Any], Any] | None = None


def cores() -> int:
    """Return how many processes a build uses: the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ordered_map(
    func: Callable[[Any, Item], Result],
    make: Callable[..., Any],
    args: tuple,
    items: Iterable[Item],
    *,
    least: int,
    processes: int | None = None,
) -> Generator[Result, None, None]:
    """Yield func(state, item) for each item in order, where state is make(*args), made once per process.

    With fewer than `least` items (starting processes would cost more than
    they save), one core, or other threads running, everything runs here. `func` and `make` must be
    module-level functions, and `args` and the items picklable.
    """
    processes = cores() if processes is None else processes
    items = iter(items)
    first = list(itertools.islice(items, least))
    if processes < 2 or len(first) < least or not _can_fork():
        state = make(*args)
        yield from (func(state, item) for item in itertools.chain(first, items))
        return
    # Items go to the workers CHUNK at a time: one message each way per chunk, not per item.
    chunks = iter(lambda: list(itertools.islice(items, CHUNK)), [])
    pool = ProcessPoolExecutor(processes, multiprocessing.get_context("fork"), _start, (func, make, args))
    try:
        pending: deque[Future[list[Result]]] = deque()
        for chunk in itertools.chain([first[i : i + CHUNK] for i in range(0, len(first), CHUNK)], chunks):
            pending.append(pool.submit(_run, chunk))
            if len(pending) >= WINDOW * processes:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)


def no_state() -> None:
    """Make no state: for a function that needs none beside its item (ordered_map's `make`)."""
    return None


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _start(func: Callable[[Any, Any], Any], make: Callable[..., Any], args: tuple) -> None:
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which stops the workers
    _job = (func, make(*args))


def _run(chunk: list[Any]) -> list[Any]:
    assert _job is not None
    func, state = _job
    return [func(state, item) for item in chunk]
