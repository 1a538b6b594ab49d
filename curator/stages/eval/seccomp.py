"""A seccomp filter for the eval child, compiled with the system's libseccomp (via ctypes).

Default allow, with a deny list of what an ML workload never calls and an attacker would:
debugging other processes, mounting, new namespaces (so the sandbox cannot be re-nested or
escaped through a user namespace), kernel keyrings, bpf, perf, userfaultfd, io_uring,
module loading, terminal injection (TIOCSTI). Sockets are an allow-list of families: none
when the child has no network (its pipes and ``socketpair`` need none), IP and netlink when it
must reach a serving engine; never unix sockets, which would reach the host's abstract ones
(in the host's network namespace) or any socket file under a mounted folder, nor vsock.
Arguments the kernel reads as 32-bit ints are compared on their low 32 bits only. Other
architectures' system call tables are killed by libseccomp's bad-arch default, so a 32-bit
``int 0x80`` does not walk around the list.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

ALLOW = 0x7FFF0000
CMP_MASKED_EQ = 7
CLONE_NEWUSER = 0x10000000
TIOCSTI = 0x5412
AF_INET, AF_INET6, AF_NETLINK = 2, 10, 16
#: every family number is checked up to here (AF_MAX is 46 in Linux 6.x; the kernel refuses above)
FAMILIES = 64
LOW32 = 0xFFFFFFFF

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "unshare", "setns",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "open_by_handle_at", "name_to_handle_at",
    "iopl", "ioperm", "syslog", "uselib", "lookup_dcookie", "vhangup",
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    try:
        _library()
    except OSError:
        return False
    return True


def compiled_filter(block_ip: bool) -> int:
    """A readable file descriptor holding the BPF program, positioned at its start.

    Raises ``OSError`` when libseccomp is missing or refuses a rule.
    """
    lib = _library()
    ctx = lib.seccomp_init(ALLOW)
    if not ctx:
        raise OSError("seccomp_init failed")
    try:
        for name in DENIED:
            _rule(lib, ctx, _errno(errno.EPERM), name)
        _rule(lib, ctx, _errno(errno.ENOSYS), "clone3")  # its flags are unreadable: glibc falls back to clone
        _rule(lib, ctx, _errno(errno.EPERM), "clone", _ArgCmp(0, CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
        _rule(lib, ctx, _errno(errno.EPERM), "ioctl", _ArgCmp(1, CMP_MASKED_EQ, LOW32, TIOCSTI))
        allowed = set() if block_ip else {AF_INET, AF_INET6, AF_NETLINK}
        for family in sorted(set(range(FAMILIES)) - allowed):
            _rule(lib, ctx, _errno(errno.EACCES), "socket", _ArgCmp(0, CMP_MASKED_EQ, LOW32, family))
        fd = os.memfd_create("curator-eval-seccomp", 0)
        if lib.seccomp_export_bpf(ctx, fd) != 0:
            os.close(fd)
            raise OSError("seccomp_export_bpf failed")
        os.lseek(fd, 0, os.SEEK_SET)
        return fd
    finally:
        lib.seccomp_release(ctx)


def _rule(lib: ctypes.CDLL, ctx: int, action: int, name: str, *args: _ArgCmp) -> None:
    number = lib.seccomp_syscall_resolve_name(name.encode())
    if number < 0:  # this kernel/libseccomp does not know it: nothing to deny
        return
    array = (_ArgCmp * len(args))(*args) if args else None
    rc = lib.seccomp_rule_add_array(ctx, action, number, len(args), array)
    if rc != 0:
        raise OSError(-rc, f"seccomp rule for {name} refused")
