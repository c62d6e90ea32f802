"""How `waypost serve` runs waitress so that slow clients cannot take a kiosk offline.

Waitress reads every request on one asynchronous loop and hands only complete
requests to its threads, so a client that trickles a request header byte by
byte ("slowloris") holds a connection, not a thread. What such clients
exhaust is the connection limit (100 by default): once it is reached waitress
stops accepting, and every phone waits. A channel's inactivity timer restarts
on every byte received, so a short timeout only sheds clients that go silent;
the defence against a trickle is a connection limit far above what one
attacker plausibly opens, which needs file descriptors and `poll()` (select()
cannot watch descriptors numbered above 1024). Caddy in front does better
still: it buffers whole requests before they reach waitress.
"""

from __future__ import annotations

import resource
from collections.abc import Mapping
from typing import Any

# Descriptors kept free for what is not a client: the listening sockets,
# waitress's wake-up pipe, bundle files, logs, a response spooled to disk.
RESERVED_FDS = 256
# No page needs a request body, and no browser sends a header this large;
# small caps keep what a thousand half-sent requests can make the kiosk buffer
# in memory, and stop any request spilling into a temporary file.
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


def waitress_options(config: Mapping[str, Any], file_limit: int, threads: int | None = None) -> dict[str, Any]:
    """Return the waitress settings for an app's config; threads overrides SERVER_THREADS."""
    timeout = int(config["SERVER_CHANNEL_TIMEOUT"])
    return {
        "threads": threads or int(config["SERVER_THREADS"]),
        "connection_limit": connection_limit(int(config["SERVER_CONNECTION_LIMIT"]), file_limit),
        "channel_timeout": timeout,
        # Look for idle channels often enough that the timeout means what it says.
        "cleanup_interval": max(1, min(timeout // 4, 30)),
        "asyncore_use_poll": True,
        "backlog": 1024,
        "max_request_header_size": MAX_HEADER_BYTES,
        "max_request_body_size": MAX_BODY_BYTES,
        "ident": "Waypost",
    }
