"""How `waypost serve` runs granian so that slow clients cannot take a kiosk offline.

Granian reads and writes every socket in Rust (hyper on tokio) and calls the
Flask app from a few Python threads only with a complete request, so a
client that trickles a request header byte by byte ("slowloris") holds a
connection, never a thread. Hyper gives a client SERVER_CHANNEL_TIMEOUT
seconds for its whole header, however slowly it sends it, and then closes
the connection. What slow clients can still exhaust is the connection limit
(granian's `backpressure`: connections beyond it wait in the kernel's
backlog), so that limit is set far above what one attacker plausibly opens,
which needs file descriptors: `serve` raises its open-file limit first.

One process answers: granian's worker runs in the process `serve` started,
after the bundle and the address are checked, with the response cache that
loads the Flask app on first need (app.web.cache.front). There
is no supervisor process and no fork. A supervisor of granian's own would
hold a second copy of the interpreter and of what was imported before the
fork (20 of 53 MB idle on the 500-article bench), and would only restart a
worker that died, which the system's supervisor already does for the whole
server: the systemd unit's `Restart=on-failure`, or Docker's restart policy.
The interpreter lock makes a second worker on a small machine cost memory
for little. Caddy in front still does better for a kiosk on the open
Internet: it buffers whole requests.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import ipaddress
import logging
import os
import resource
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Descriptors kept free for what is not a client: the listening socket,
# granian's own pipes, bundle files, logs.
RESERVED_FDS = 256
# No page needs a request body, and no browser sends a header this large;
# small caps keep what a thousand half-sent requests can make the kiosk buffer
# in memory (the body cap is Flask's MAX_CONTENT_LENGTH, for what reads one).
# The header cap is hyper's read buffer, which may take one more read past
# it: a request head over about 40 KB is answered 431 (measured).
MAX_HEADER_BYTES = 32 * 1024
MAX_BODY_BYTES = 64 * 1024


def raise_file_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        # Some systems refuse RLIM_INFINITY as a soft limit; a large finite one is enough.
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_limit(wanted: int, file_limit: int) -> int:
    """Return the most connections to accept: wanted, but below the file limit with room to spare."""
    return max(1, min(wanted, file_limit - RESERVED_FDS, file_limit // 2))


def server_options(config: Mapping[str, Any], file_limit: int, threads: int | None = None) -> dict[str, Any]:
    """Return the granian settings for an app's config; threads overrides SERVER_THREADS."""
    from granian.http import HTTP1Settings

    return {
        "blocking_threads": threads or int(config["SERVER_THREADS"]),
        "backpressure": connection_limit(int(config["SERVER_CONNECTION_LIMIT"]), file_limit),
        "backlog": 1024,
        "http1_settings": HTTP1Settings(
            header_read_timeout=int(config["SERVER_CHANNEL_TIMEOUT"]) * 1000,
            max_buffer_size=MAX_HEADER_BYTES,
        ),
    }


# glibc's mallopt parameter for the most malloc arenas, and the number `serve` allows.
M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def bound_malloc_arenas(environ: Mapping[str, str]) -> bool:
    """Let the threads share MALLOC_ARENAS malloc arenas (glibc); return whether the limit was set.

    glibc gives each thread that allocates an arena of its own, and keeps
    what a search or a page render freed there for that thread: with 8
    threads, 10 MB more after load for nothing, since the interpreter lock
    lets one thread run Python at a time anyway. MALLOC_ARENA_MAX in the
    environment wins; elsewhere than glibc this does nothing.
    """
    if "MALLOC_ARENA_MAX" in environ:
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, MALLOC_ARENAS))
    except (OSError, AttributeError):
        return False


def give_back_memory() -> bool:
    """Give what the process freed back to the system now (glibc's malloc_trim); return whether it could.

    glibc keeps what a large piece of work freed (measuring a topic renders
    every page of it once, about 10 MB on the bench's 167-article topic) for
    the process, in the middle of its heap where it is never returned by
    itself: trimmed, 8 of those 11 MB went back. Elsewhere than glibc this
    does nothing.
    """
    try:
        import ctypes

        return bool(ctypes.CDLL(None).malloc_trim(0))
    except (OSError, AttributeError):
        return False


class ListenError(Exception):
    """An address `waypost serve` cannot listen on, said in one line."""


WILDCARDS = {"0.0.0.0", "::"}


def bind_address(hosts: Sequence[str]) -> str:
    """Return the one address granian listens on for the --host values, or raise ListenError.

    Granian listens on one address. `--host 0.0.0.0 --host ::` (every
    address, as the kiosk's unit asks) is `::`, which on Linux takes IPv4
    connections too unless net.ipv6.bindv6only is set.
    """
    chosen = list(dict.fromkeys(hosts))
    if set(chosen) == WILDCARDS:
        return "::"
    if len(chosen) != 1:
        raise ListenError(
            f"waypost serve listens on one address, not {', '.join(chosen)}: "
            "give one --host, or --host 0.0.0.0 --host :: for every address"
        )
    return chosen[0]


class Server:
    """Granian serving the WSGI app make_app() returns, in this process; `run()` until SIGTERM or SIGINT."""

    def __init__(
        self, make_app: Callable[[], Any], address: str, port: int, options: Mapping[str, Any], access_log: bool
    ) -> None:
        from granian.constants import HTTPModes, Interfaces
        from granian.log import LogLevels

        self.make_app = make_app
        self.access_log = access_log
        self.granian = _in_process_granian()(
            "app.web:create_app",  # a label only: run() gives the app built here
            address=address,
            port=port,
            interface=Interfaces.WSGI,
            workers=1,
            http=HTTPModes.http1,
            websockets=False,
            log_level=LogLevels.error,  # its one warning (threads > 2 x cores) is a choice made here
            **options,
        )

    def run(self) -> None:
        """Build the app, then answer until SIGTERM or SIGINT, letting the requests in hand finish."""
        configure_access_log(self.access_log)
        forward_stop_signals()
        app = self.make_app()
        self.granian.serve(target_loader=lambda _target: app)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A signal with nothing to do, sent to the main thread to wake it (its default action is to ignore it).
WAKE_SIGNAL = signal.SIGURG


def forward_stop_signals() -> bool:
    """Make sure a SIGTERM or SIGINT reaches the main thread, whichever thread the system gave it to.

    Python runs signal handlers in the main thread only, and granian's main
    thread waits on a lock for the stop signal; that wait is interrupted only
    by a signal delivered to the main thread itself. The system may hand a
    signal sent to the process to any of its threads (granian's Rust threads,
    the threads answering requests): measured, `kill -TERM` aimed at one of
    them left the server running until a second signal. So every signal is
    also written to a pipe (signal.set_wakeup_fd, by whichever thread caught
    it), and a thread of ours that reads the pipe sends WAKE_SIGNAL to the
    main thread after a stop signal: interrupted, it runs the handler of the
    signal it missed. Call from the main thread; returns whether it could.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.signal(WAKE_SIGNAL, lambda _signum, _frame: None)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    main = threading.main_thread().ident or 0
    stops = {int(s) for s in STOP_SIGNALS}

    def forward() -> None:
        while True:
            caught = os.read(read_end, 64)
            if not caught:
                return
            if stops.intersection(caught):
                signal.pthread_kill(main, WAKE_SIGNAL)

    threading.Thread(target=forward, name="waypost-signals", daemon=True).start()
    return True


def _in_process_granian() -> type:
    """Return granian's server made to run its one worker in this process instead of a forked one.

    Granian has no public switch for this. Its own checks and settings
    (`serve()`) are kept; only the last step, which would start and watch
    worker processes, runs the worker's body here instead: what a worker
    process runs, given the arguments granian itself gives a worker (the
    listening socket, the signal handlers, the Rust server, the wait for the
    stop signal). The lock pins granian, and the tests that start the real
    `waypost serve` fail if an upgrade changes these internals.
    """
    from granian.server import MPServer

    class InProcess(MPServer):
        def _serve(self, spawn_target: Callable[..., Any], target_loader: Callable[[], Any]) -> None:
            self._init_shared_socket()
            worker = self._spawn_worker(0, spawn_target, target_loader)
            try:
                worker.inner.run()  # multiprocessing's Process.run: the worker's target, in this process
            finally:
                self._drop_shared_socket()

    return InProcess


def create_server(
    make_app: Callable[[], Any], hosts: Sequence[str], port: int, options: Mapping[str, Any], access_log: bool = False
) -> Server:
    """Check that port is free on the address for hosts and return the server, or raise ListenError saying why not."""
    address = bind_address(hosts)
    where = ", ".join(dict.fromkeys(hosts))
    try:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((address, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(
                f"port {port} is already in use on {where} (another Waypost, or another program): "
                f"stop it, or choose another port with --port {port + 1 if port < 65535 else 8000}"
            ) from None
        if exc.errno == errno.EACCES:
            raise ListenError(
                f"not allowed to listen on port {port}: ports below 1024 need the service's "
                "CAP_NET_BIND_SERVICE (the systemd unit gives it), or use --port 8000"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ListenError(f"{where} is not an address of this machine: use 0.0.0.0 for every address") from None
        if isinstance(exc, socket.gaierror):
            raise ListenError(f"cannot listen on {where}: not an IP address (e.g. 0.0.0.0, 127.0.0.1 or ::)") from None
        raise ListenError(f"cannot listen on {where} port {port}: {exc.strerror or exc}") from None
    return Server(make_app, address, port, options, access_log)


def reader_addresses(hosts: Sequence[str], port: int, public_url: str = "") -> list[str]:
    """Return every address a phone can open to reach this server, the configured PUBLIC_URL first.

    A wildcard host (0.0.0.0, ::) stands for each address of each network
    interface; loopback is listed only when nothing else is, since a phone
    cannot reach it. The mDNS name `<hostname>.local` is listed when Avahi runs.
    """
    found = [public_url] if public_url else []
    ips: list[str] = []
    for host in hosts:
        if host in ("0.0.0.0", ""):
            ips += interface_addresses(socket.AF_INET)
        elif host == "::":
            ips += interface_addresses(socket.AF_INET6)
        else:
            ips.append(host)
    lan = [ip for ip in ips if not ipaddress.ip_address(ip).is_loopback]
    if lan and Path(AVAHI_PID).exists():
        found.append(_url(f"{socket.gethostname()}.local", port))
    found += [_url(ip, port) for ip in dict.fromkeys(lan or ips or ["127.0.0.1"])]
    return list(dict.fromkeys(found))


AVAHI_PID = "/run/avahi-daemon/pid"
SIOCGIFADDR = 0x8915


def interface_addresses(family: int) -> list[str]:
    """Return this machine's addresses of one family (Linux), without link-local IPv6 ones."""
    if family == socket.AF_INET6:
        return _ipv6_addresses()
    found = []
    for _index, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue  # an interface without an IPv4 address
        found.append(socket.inet_ntoa(packed[20:24]))
    return found


def _ipv6_addresses() -> list[str]:
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        raw = line.split()[0]
        address = ipaddress.IPv6Address(bytes.fromhex(raw))
        # A link-local address needs a %zone no phone's address bar accepts.
        if not address.is_link_local:
            found.append(str(address))
    return found


def is_lan_url(url: str) -> bool:
    """Return whether an address `reader_addresses` listed is a network address of this machine (not loopback)."""
    try:
        return not ipaddress.ip_address(urlsplit(url).hostname or "").is_loopback
    except ValueError:
        return False  # a name: PUBLIC_URL or <hostname>.local


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}/" if port == 80 else f"http://{shown}:{port}/"


class BatchedStream(logging.StreamHandler):
    """A stream handler that writes what was logged once every FLUSH_SECONDS, in one write, from its own thread.

    One write (and flush) per request would be a system call on the thread
    that answers, which releases the interpreter lock and waits to take it
    back behind every other thread: under load that cost more than the
    cached answer itself. A line reaches the journal at most FLUSH_SECONDS
    late; at exit, what is left is written.
    """

    FLUSH_SECONDS = 0.5

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[str] = []
        self.flusher = threading.Thread(target=self._flush_often, name="waypost-access-log", daemon=True)
        self.flusher.start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.pending.append(self.format(record) + self.terminator)
        except Exception:  # noqa: BLE001 - as logging's own handlers: a bad record never stops a request
            self.handleError(record)

    def flush(self) -> None:
        # Swapped out whole under the handler's lock (emit runs under it): each line goes in one batch.
        with self.lock:  # type: ignore[union-attr]
            lines, self.pending = self.pending, []
        if lines:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("".join(lines))
                self.stream.flush()

    def _flush_often(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush()


def configure_access_log(enabled: bool) -> None:
    """Send the `waypost.access` log (method, path, status, duration) to standard error when enabled.

    Under systemd standard error goes to the journal (`journalctl -u waypost`).
    Lines are written in batches (BatchedStream), at most half a second late.
    """
    logger = logging.getLogger("waypost.access")
    if not enabled or any(getattr(h, "waypost", False) for h in logger.handlers):
        return
    handler = BatchedStream()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.waypost = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
