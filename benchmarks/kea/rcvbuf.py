#!/usr/bin/env python3
"""Sets the receive buffer of a running kea-dhcp4's DHCPv4 UDP socket(s).

usage: rcvbuf.py PID BYTES

What `sysctl net.core.rmem_default=BYTES` would give Kea (the tuning Kea's documentation
suggests for bursts), for one process only: the system-wide sysctl is shared by every
program on the machine, and it cannot be set per network namespace. The socket is taken
from the process with pidfd_getfd(2) (Linux 5.6, needs ptrace rights over it: root) and
given SO_RCVBUFFORCE; the kernel doubles the value for its bookkeeping, as for the sysctl.
Prints what each socket got.
"""
import ctypes
import os
import socket
import sys

SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture
SO_RCVBUFFORCE = 33
DHCP_SERVER_PORT = 67


def main():
    pid, size = int(sys.argv[1]), int(sys.argv[2])
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    done = 0
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                raise OSError(ctypes.get_errno(), f"pidfd_getfd {pid} fd {name}")
            s = socket.socket(fileno=fd)
            try:
                if s.family != socket.AF_INET or s.type != socket.SOCK_DGRAM:
                    continue
                if s.getsockname()[1] != DHCP_SERVER_PORT:
                    continue
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
                got = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
                print(f"kea-dhcp4 {pid} fd {name} {s.getsockname()}: SO_RCVBUF {got}")
                done += 1
            finally:
                s.close()  # our duplicate only; Kea's descriptor stays open
    finally:
        os.close(pidfd)
    if done == 0:
        sys.exit(f"rcvbuf.py: kea-dhcp4 {pid} has no UDP socket on port {DHCP_SERVER_PORT}")


if __name__ == "__main__":
    main()
