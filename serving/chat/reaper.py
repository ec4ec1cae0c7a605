"""Kill the chat model's vLLM engine processes once the process that started them is gone.

vLLM's ``EngineCore`` (and its ``Worker`` processes) stop when their client shuts them down,
but not when the client dies: after a SIGKILL of Triton's Python stub, or tritonserver exiting
before the model's ``finalize`` ran, they were left running for an hour, re-parented to init,
2 GB each. The chat engine starts this script as a small child process (it imports only psutil,
never vLLM or the project): while the owner lives it keeps the list of the owner's descendants
fresh; when the owner is gone it terminates every one of them that is still alive, then exits.

``python reaper.py OWNER_PID [INTERVAL_S]``
"""

from __future__ import annotations

import os
import sys
import time

import psutil


def descendants(owner: psutil.Process, me: int) -> dict[int, float]:
    """pid -> create time of every descendant of ``owner`` but this process."""
    found: dict[int, float] = {}
    for child in owner.children(recursive=True):
        if child.pid == me:
            continue
        try:
            found[child.pid] = child.create_time()
        except psutil.NoSuchProcess:
            continue
    return found


def terminate(known: dict[int, float], grace_s: float = 5.0) -> list[int]:
    """SIGTERM the processes of ``known`` that are still the same processes, SIGKILL the rest
    after ``grace_s``; return the pids that were signalled."""
    victims: list[psutil.Process] = []
    for pid, created in known.items():
        try:
            process = psutil.Process(pid)
            if abs(process.create_time() - created) < 0.01:  # not a recycled pid
                victims.append(process)
        except psutil.NoSuchProcess:
            continue
    for process in victims:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(victims, timeout=grace_s)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    return [process.pid for process in victims]


def watch(owner_pid: int, interval_s: float = 0.5) -> list[int]:
    me = os.getpid()
    known: dict[int, float] = {}
    try:
        owner = psutil.Process(owner_pid)
        while owner.is_running() and owner.status() != psutil.STATUS_ZOMBIE:
            known.update(descendants(owner, me))
            time.sleep(interval_s)
    except psutil.NoSuchProcess:
        pass
    return terminate(known)


if __name__ == "__main__":
    killed = watch(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
    if killed:
        print(f"[chat reaper] owner {sys.argv[1]} gone; stopped {killed}", file=sys.stderr)
