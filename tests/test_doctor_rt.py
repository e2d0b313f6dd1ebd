"""Issue 17: doctor's verdicts on real-time scheduling, memory locking and JACK's -R.

The limits are real: a forked child drops to the unprivileged user ``nobody`` (no CAP_SYS_NICE,
no CAP_IPC_LOCK) with the RLIMIT_RTPRIO / RLIMIT_MEMLOCK a test sets, so the kernel itself
grants or refuses SCHED_FIFO; the JACK servers are real jackd processes on the dummy driver.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import resource
import subprocess
import sys
import time

import pytest

from helpers import have, jack_running, require, terminate

from s2s_live import doctor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux limits and /proc")


def _as_nobody(*, rtprio: int, memlock: int, audio_group: bool) -> dict:
    """Run doctor's realtime and memlock checks in a child that is ``nobody`` with these limits."""
    require(os.geteuid() == 0, "dropping to 'nobody' with chosen limits needs root")
    if audio_group:
        try:
            grp.getgrnam("audio")
        except KeyError:
            pytest.skip("this system has no 'audio' group")
    nobody = pwd.getpwnam("nobody")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: set the limits while still root, then drop every privilege
        code = 0
        try:
            os.close(r)
            resource.setrlimit(resource.RLIMIT_RTPRIO, (rtprio, rtprio))
            resource.setrlimit(resource.RLIMIT_MEMLOCK, (memlock, memlock))
            os.setgroups([grp.getgrnam("audio").gr_gid] if audio_group else [])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            out = {"realtime": doctor.check_realtime(), "memlock": doctor.check_memlock()}
            os.write(w, json.dumps(out).encode())
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, never raised in a fork
            os.write(w, json.dumps({"error": repr(exc)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(data)
    assert "error" not in res, res
    return res


def test_root_on_this_machine_may_use_realtime_and_lock_memory():
    require(os.geteuid() == 0, "the CI machine runs the suite as root")
    assert doctor.check_realtime()[0] == doctor.OK
    assert doctor.check_memlock()[0] == doctor.OK


def test_user_without_limits_gets_warnings_with_the_fix():
    got = _as_nobody(rtprio=0, memlock=8 * 2**20, audio_group=False)
    v, msg = got["realtime"]
    assert v == doctor.WARN and "SCHED_FIFO refused" in msg, msg
    assert "@audio - rtprio 95" in msg and "/etc/security/limits.d/audio.conf" in msg, msg
    assert "usermod -aG audio" in msg, msg  # nobody is not in the audio group
    v, msg = got["memlock"]
    assert v == doctor.WARN and "8 MB" in msg and "@audio - memlock unlimited" in msg, msg


def test_user_in_the_audio_group_without_the_limits_is_told_the_file_not_usermod():
    # (raising the hard RLIMIT_RTPRIO / RLIMIT_MEMLOCK needs CAP_SYS_RESOURCE, which this machine's
    # root lacks: the "ok" verdicts are the root test's, through CAP_SYS_NICE / CAP_IPC_LOCK)
    got = _as_nobody(rtprio=0, memlock=8 * 2**20, audio_group=True)
    for key in ("realtime", "memlock"):
        v, msg = got[key]
        assert v == doctor.WARN and "/etc/security/limits.d/audio.conf" in msg and "usermod" not in msg, msg


def _vm_locked_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmLck:"))


@pytest.mark.parametrize("realtime", [True, False])
def test_jack_server_with_and_without_realtime(monkeypatch, realtime):
    """doctor's JACK verdict, and what the capture process reports of itself on that server:
    its callback thread's realtime priority (JACK gives it only when the server is realtime)
    and its locked memory (checked against the kernel's own VmLck)."""
    require(have("jackd"), "jackd (apt-get install jackd2)")
    name = f"s2s_doctor_{os.getpid()}_{int(realtime)}"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    assert doctor.check_jack() == (doctor.OK, f"no JACK server named {name!r} running (checked when one is)")
    # jackd2 is realtime by default (-R) and falls back to normal scheduling only with -r
    argv = ["jackd", "-n", name] + ([] if realtime else ["-r"]) + ["-d", "dummy", "-r", "48000", "-p", "256"]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while not jack_running() and time.time() < deadline:  # ports up: its threads run
            time.sleep(0.1)
        v, msg = doctor.check_jack()
        if realtime:
            require(doctor.check_realtime()[0] == doctor.OK, "this user may not use SCHED_FIFO")
            assert v == doctor.OK and "realtime scheduling (priority" in msg, msg
        else:
            assert v == doctor.WARN and "without realtime" in msg and "jackd -R" in msg, msg
        from s2s_live.capture import DeviceSource, memlock_allowed

        src = DeviceSource("system", samplerate=48000, blocksize=256)
        try:
            src.start()
            deadline = time.time() + 10
            while src.counters()["callbacks"] < 20 and time.time() < deadline:
                time.sleep(0.05)
            c = src.counters()
            assert c["callbacks"] >= 20, c
            assert c["capture_rt_priority"] > 0 if realtime else c["capture_rt_priority"] == 0, c
            locked = _vm_locked_kb(src._proc.pid)
            if memlock_allowed():
                assert c["capture_memlocked"] == 1 and locked > 10_000, (c, locked)  # numpy alone is more
            else:
                assert c["capture_memlocked"] == 0 and locked == 0, (c, locked)
        finally:
            src.close()
    finally:
        terminate(p)
