"""Where a batch runs: a LocalCluster on this machine (`local:N`) or a running Dask scheduler (`tcp://HOST:PORT`).

The same code runs on both: a LocalCluster is N worker processes with one thread each (the scene engine
encodes with one thread per worker; Dask's nanny sets OMP_NUM_THREADS=1 in each). Its workers start
without Dask's MALLOC_TRIM_THRESHOLD_: setting it turns off glibc's adaptive mmap threshold, so every large
temporary array of the encoder is a fresh mmap and its pages fault in again (measured: 4x the page faults
and 4x the system time of the same indexing in one process, the batch at 0.58 of the one-process speed).
Dask sets its worker variables in the starting process's own environment too; connect() puts that back
as it was once the workers run (a worker the nanny restarts later sets them again). A real cluster is
started by its own tools (`dask scheduler` and `dask worker`, dask-jobqueue on an HPC queue,
dask-kubernetes); its workers need this package importable and the scenes and index folder at the same
paths (shared storage).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from ..errors import SarclipError

if TYPE_CHECKING:
    from distributed import Client

LOCAL = re.compile(r"^local(?::(\d+))?$")
REMOTE = re.compile(r"^(tcp|tls|ws|wss|inproc)://\S+$")
CONNECT_TIMEOUT = "20s"
NO_TRIM = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}  # None: not set (Dask's rule)


def default_scheduler() -> str:
    """`local:N` with one worker per CPU core."""
    return f"local:{os.cpu_count() or 1}"


def check_scheduler(text: str) -> str:
    """The scheduler spec if it is `local`, `local:N` (N >= 1) or a scheduler address; else a one-line error."""
    local = LOCAL.match(text)
    if (local and (local[1] is None or int(local[1]) >= 1)) or REMOTE.match(text):
        return text
    raise SarclipError(f"--scheduler {text!r}: give local:N (N worker processes on this machine) or a Dask "
                       "scheduler's address such as tcp://HOST:8786")


@contextmanager
def connect(scheduler: str) -> Iterator[Client]:
    """A dask.distributed Client for the scheduler spec, closed (and a LocalCluster shut down) when the block ends."""
    import dask
    from distributed import Client, LocalCluster

    check_scheduler(scheduler)
    local = LOCAL.match(scheduler)
    if local:
        workers = int(local[1]) if local[1] else os.cpu_count() or 1
        with dask.config.set(NO_TRIM), environment_kept():
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise SarclipError(f"cannot reach the Dask scheduler at {scheduler} ({reason}); start one with "
                           "`dask scheduler` and workers with `dask worker ADDRESS`") from None
    with client:
        yield client


@contextmanager
def environment_kept() -> Iterator[None]:
    """This process's environment variables as they were before the block, whatever it set or removed."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(before):
            del os.environ[name]
        for name, value in before.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
