"""Look inside archives and compressed streams, bounded: a bomb or a huge member is a finding, not a hang.

Only members that can carry code are copied out (to the scratch folder); torch's tensor
storages and other plain data are never read past their first bytes.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import posixpath
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from curator.core.models import Finding, Severity
from curator.core.paths import unsafe_reason
from curator.stages.scan.sniff import HEAD_BYTES, sniff, sniff_file
from curator.stages.scan.targets import FileExam

if TYPE_CHECKING:
    from curator.stages.scan.examine import Examiner

#: ratios are only judged above this size: tiny members compress absurdly well and harm nobody
RATIO_FLOOR = 16 << 20
_TORCH_STORAGE = re.compile(r"(^|/)data/\d+$")


def _where(exam: FileExam, member: str | None) -> str:
    return f"{exam.path}!{member}" if member else exam.path


def _inner(member: str | None, name: str) -> str:
    return f"{member}!{name}" if member else name


def examine_zip(ex: Examiner, exam: FileExam, path: Path, member: str | None, depth: int) -> None:
    """Member names, sizes and ratios from the central directory; code-capable members copied out."""
    where = _where(exam, member)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        exam.unread.append(f"{where}: zip does not open ({exc})")
        return
    with zf:
        infos = zf.infolist()
        if len(infos) > ex.config.max_archive_members:
            exam.findings.append(_finding("archive-too-many-members", where, f"holds {len(infos)} members "
                                          f"(policy cap {ex.config.max_archive_members})"))
            return
        names = [i.filename for i in infos]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            exam.findings.append(_finding("archive-duplicate-member", where,
                                          f"names {dup!r} twice: zip readers disagree on which one wins"))
        torch = any(n == "data.pkl" or n.endswith("/data.pkl") for n in names)
        total = sum(i.file_size for i in infos)
        if total > ex.config.max_unpacked_bytes:
            exam.findings.append(_finding("archive-too-large", where,
                                          f"declares {total} unpacked bytes (policy cap "
                                          f"{ex.config.max_unpacked_bytes})"))
        for info in infos:
            _zip_member(ex, exam, zf, info, member, depth, torch)
    if {"config.json", "metadata.json"} <= set(names):  # a Keras 3 .keras archive
        ex.target(exam, path, member, "keras", ".keras")


def _zip_member(ex: Examiner, exam: FileExam, zf: zipfile.ZipFile, info: zipfile.ZipInfo,
                member: str | None, depth: int, torch: bool) -> None:
    name = info.filename
    label = _inner(member, name)
    where = _where(exam, label)
    reason = unsafe_reason(name.rstrip("/"))
    if reason:
        exam.findings.append(_finding("archive-path-traversal", where, f"member path is unsafe: {reason}"))
    if info.is_dir():
        return
    if stat.S_ISLNK(info.external_attr >> 16):
        exam.findings.append(_finding("archive-link-member", where, "is a symbolic link; extracting it "
                                      "can point later writes anywhere"))
        return
    if info.flag_bits & 0x1:
        exam.unread.append(f"{where}: member is encrypted")
        return
    if _too_big(ex, exam, where, info.file_size, info.compress_size):
        return
    if torch and _TORCH_STORAGE.search(name):
        return  # raw tensor storage: torch.load never unpickles these
    try:
        with zf.open(info) as fh:
            head = fh.read(HEAD_BYTES)
    except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError, OSError, RuntimeError) as exc:
        exam.findings.append(_finding("archive-member-unreadable", where, f"does not read back ({exc})"))
        exam.unread.append(f"{where}: member does not read back")
        return
    sniffed = sniff(head, posixpath.basename(name), info.file_size)
    if not sniffed.code_capable:
        exam.parts.append({"member": label, "format": sniffed.format})
        return
    copy = ex.scratch_path(posixpath.basename(name))
    with zf.open(info) as fh:
        copied = ex.copy_bounded(fh, copy, ex.config.max_member_bytes)
    if copied is None:
        exam.unread.append(f"{where}: member does not fit the unpack budget")
        return
    ex.dispatch(exam, copy, label, sniffed, depth + 1, None)


def examine_tar(ex: Examiner, exam: FileExam, path: Path, member: str | None, depth: int) -> None:
    """Every header is checked (paths, links, device files); code-capable members are copied out."""
    where = _where(exam, member)
    try:
        tf = tarfile.open(path, mode="r:")  # noqa: SIM115 - closed by the with below, after the except
    except (tarfile.TarError, OSError) as exc:
        exam.unread.append(f"{where}: tar does not open ({exc})")
        return
    with tf:
        count = 0
        try:
            for info in tf:
                count += 1
                if count > ex.config.max_archive_members:
                    exam.findings.append(_finding("archive-too-many-members", where,
                                                  f"holds more than {ex.config.max_archive_members} members"))
                    return
                _tar_member(ex, exam, tf, info, member, depth)
        except (tarfile.TarError, OSError, EOFError) as exc:
            exam.unread.append(f"{where}: tar breaks after {count} members ({exc})")


def _tar_member(ex: Examiner, exam: FileExam, tf: tarfile.TarFile, info: tarfile.TarInfo,
                member: str | None, depth: int) -> None:
    name = info.name[2:] if info.name.startswith("./") else info.name
    label = _inner(member, name)
    where = _where(exam, label)
    reason = unsafe_reason(name.rstrip("/"))
    if reason:
        exam.findings.append(_finding("archive-path-traversal", where, f"member path is unsafe: {reason}"))
    if info.issym() or info.islnk():
        target = info.linkname
        base = posixpath.dirname(name) if info.issym() else ""  # hard links are relative to the root
        resolved = posixpath.normpath(posixpath.join(base, target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            exam.findings.append(_finding("archive-link-escapes", where,
                                          f"links to {target!r}, outside the archive"))
        return
    if info.ischr() or info.isblk() or info.isfifo():
        exam.findings.append(_finding("archive-special-file", where, "is a device or FIFO node"))
        return
    if not info.isfile() or _too_big(ex, exam, where, info.size, info.size):
        return
    fh = tf.extractfile(info)
    if fh is None:
        return
    with fh:
        sniffed = sniff(fh.read(HEAD_BYTES), posixpath.basename(name), info.size)
        if not sniffed.code_capable:
            exam.parts.append({"member": label, "format": sniffed.format})
            return
        fh.seek(0)
        copy = ex.scratch_path(posixpath.basename(name))
        copied = ex.copy_bounded(fh, copy, ex.config.max_member_bytes)
    if copied is None:
        exam.unread.append(f"{where}: member does not fit the unpack budget")
        return
    ex.dispatch(exam, copy, label, sniffed, depth + 1, None)


def examine_compressed(ex: Examiner, exam: FileExam, path: Path, member: str | None, fmt: str,
                       depth: int) -> None:
    """Inflate into scratch under a size cap and a ratio cap, then look at what came out."""
    where = _where(exam, member)
    label = _inner(member, "(decompressed)")
    copy = ex.scratch_path(Path(member or exam.path).name + ".inner")
    limit = min(ex.config.max_member_bytes, ex.config.max_unpacked_bytes - ex.unpacked)
    if limit <= 0:
        exam.unread.append(f"{where}: the unpack budget is used up")
        return
    packed = path.stat().st_size
    try:
        with open(path, "rb") as raw:
            written = _inflate(raw, fmt, copy, limit, packed, ex.config.max_compression_ratio)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        exam.findings.append(_finding("compressed-corrupt", where, f"{fmt} stream is corrupt ({exc})",
                                      Severity.MEDIUM))
        exam.unread.append(f"{where}: {fmt} stream does not inflate")
        return
    if written is None:
        exam.findings.append(_finding("compression-bomb", where,
                                      f"{fmt} stream inflates past the policy's caps ({limit} bytes, "
                                      f"ratio {ex.config.max_compression_ratio:.0f}x)"))
        return
    ex.unpacked += written
    ex.dispatch(exam, copy, label, sniff_file(copy, Path(exam.path).name), depth + 1, None)


def _inflate(raw: BinaryIO, fmt: str, dest: Path, limit: int, packed: int, max_ratio: float) -> int | None:
    openers: dict[str, Callable[[BinaryIO], Any]] = {
        "gzip": lambda f: gzip.GzipFile(fileobj=f), "bz2": bz2.BZ2File, "xz": lzma.LZMAFile,
        "zlib": _ZlibReader}
    written = 0
    with openers[fmt](raw) as stream, open(dest, "wb") as out:
        while chunk := stream.read(1 << 20):
            written += len(chunk)
            if written > limit or (written > RATIO_FLOOR and written > max_ratio * max(packed, 1)):
                out.close()
                dest.unlink()
                return None
            out.write(chunk)
    return written


class _ZlibReader:
    """A read()-able view of a raw zlib stream (joblib's compressed format)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.inflater = zlib.decompressobj()

    def read(self, n: int) -> bytes:
        out = b""
        while len(out) < n and not self.inflater.eof:
            data = self.inflater.unconsumed_tail or self.raw.read(1 << 16)
            if not data:
                raise EOFError("zlib stream ends early")
            out += self.inflater.decompress(data, n - len(out))
        return out

    def __enter__(self) -> _ZlibReader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _too_big(ex: Examiner, exam: FileExam, where: str, size: int, packed: int) -> bool:
    if size > ex.config.max_member_bytes:
        exam.findings.append(_finding("archive-member-too-large", where,
                                      f"unpacks to {size} bytes (policy cap {ex.config.max_member_bytes})"))
        return True
    if size > RATIO_FLOOR and size > ex.config.max_compression_ratio * max(packed, 1):
        exam.findings.append(_finding("archive-bomb", where,
                                      f"compresses {size / max(packed, 1):.0f}x ({packed} -> {size} bytes): "
                                      "a decompression bomb"))
        return True
    return False


def _finding(code: str, where: str, text: str, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(severity, code, f"{where} {text}")
