"""Look inside archives and compressed streams, bounded: a bomb or a huge member is a finding, not a hang.

Each function yields the members worth examining (copied to scratch) and records on the
exam what the container itself gets wrong; the examiner loops over what is yielded, so this
module knows nothing of it. torch's tensor storages and plain NumPy arrays are never copied.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from curator.core.models import Finding, Severity
from curator.core.paths import unsafe_reason
from curator.stages.scan.checks.numpy_npy import NpyUnreadable, read_npy_header
from curator.stages.scan.config import ScanConfig
from curator.stages.scan.scratch import Scratch
from curator.stages.scan.sniff import HEAD_BYTES, sniff
from curator.stages.scan.targets import FileExam

#: ratios are only judged above this size: tiny members compress absurdly well and harm nobody
RATIO_FLOOR = 16 << 20
_TORCH_STORAGE = re.compile(r"(^|/)data/\d+$")
#: formats whose content is fully known from a member small enough to be read whole
_SEEN_WHOLE = frozenset({"text", "empty", "image", "audio", "sentencepiece", "msgpack", "tf-fingerprint"})


@dataclass(frozen=True)
class Member:
    """A member (or inflated stream) copied to scratch: examine ``path`` as ``label`` of the file."""

    label: str
    path: Path
    name: str  # its own base name, for sniffing ties


def _where(exam: FileExam, member: str | None) -> str:
    return f"{exam.path}!{member}" if member else exam.path


def _inner(member: str | None, name: str) -> str:
    return f"{member}!{name}" if member else name


def zip_members(config: ScanConfig, scratch: Scratch, exam: FileExam, path: Path, member: str | None,
                names: list[str]) -> Iterator[Member]:
    """Member names, sizes and ratios from the central directory; members that need a look, copied out."""
    where = _where(exam, member)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        exam.unread.append(f"{where}: zip does not open ({exc})")
        return
    with zf:
        infos = zf.infolist()
        if len(infos) > config.max_archive_members:
            exam.findings.append(_finding("archive-too-many-members", where, f"holds {len(infos)} members "
                                          f"(policy cap {config.max_archive_members})"))
            return
        names += [i.filename for i in infos]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            exam.findings.append(_finding("archive-duplicate-member", where,
                                          f"names {dup!r} twice: zip readers disagree on which one wins"))
        torch = any(n == "data.pkl" or n.endswith("/data.pkl") for n in names)
        total = sum(i.file_size for i in infos)
        if total > config.max_unpacked_bytes:
            exam.findings.append(_finding("archive-too-large", where,
                                          f"declares {total} unpacked bytes (policy cap "
                                          f"{config.max_unpacked_bytes})"))
        for info in infos:
            yield from _zip_member(config, scratch, exam, zf, info, member, torch)


def _zip_member(config: ScanConfig, scratch: Scratch, exam: FileExam, zf: zipfile.ZipFile,
                info: zipfile.ZipInfo, member: str | None, torch: bool) -> Iterator[Member]:
    name = info.filename
    label = _inner(member, name)
    where = _where(exam, label)
    _check_path(exam, name, where)
    if info.is_dir() and info.file_size == 0:  # a name ending in "/" can still hold bytes: read them
        return
    if stat.S_ISLNK(info.external_attr >> 16):
        exam.findings.append(_finding("archive-link-member", where, "is a symbolic link; extracting it "
                                      "can point later writes anywhere"))
        return
    if info.flag_bits & 0x1:
        exam.unread.append(f"{where}: member is encrypted")
        return
    if _too_big(config, exam, where, info.file_size, info.compress_size):
        return
    try:
        if torch and _TORCH_STORAGE.search(name) and not _starts_as_npy(zf, info):
            return  # raw tensor storage: torch.load never unpickles these
        with zf.open(info) as fh:
            head = fh.read(HEAD_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError, OSError, RuntimeError) as exc:
        exam.findings.append(_finding("archive-member-unreadable", where, f"does not read back ({exc})"))
        exam.unread.append(f"{where}: member does not read back")
        return
    if _settled_by_head(config, exam, head, info.file_size, name, label):
        return
    copy = scratch.path(posixpath.basename(name))
    with zf.open(info) as fh:
        copied = scratch.copy(fh, copy, config.max_member_bytes)
    if copied is None:
        exam.unread.append(f"{where}: member does not fit the unpack budget")
        return
    yield Member(label, copy, posixpath.basename(name))


def _starts_as_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """A storage-named member that is a .npy: ``numpy.load`` reads every member of a zip by name
    (``npz['data/0']``) and unpickles an object array in any of them."""
    with zf.open(info) as fh:
        return fh.read(6) == b"\x93NUMPY"


def _settled_by_head(config: ScanConfig, exam: FileExam, head: bytes, size: int, name: str,
                     label: str) -> bool:
    """True when the head alone settles the member: inert content read whole, or a plain NumPy array."""
    if len(head) >= size:
        sniffed = sniff(head, posixpath.basename(name), config.max_pickle_opcodes)
        inert = sniffed.format in _SEEN_WHOLE and sniffed.format in config.inert_formats
        if inert and not sniffed.pickle_face:
            exam.parts.append({"member": label, "format": sniffed.format})
            return True
        return False
    if head.startswith(b"\x93NUMPY"):
        try:
            header = read_npy_header(io.BytesIO(head), size)
        except NpyUnreadable:
            return False
        if not header.holds_objects:
            exam.parts.append({"member": label, "format": "numpy"})
            return True
    return False


def tar_members(config: ScanConfig, scratch: Scratch, exam: FileExam, path: Path,
                member: str | None) -> Iterator[Member]:
    """Every header is checked (paths, links, device files); members that need a look are copied out."""
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
                if count > config.max_archive_members:
                    exam.findings.append(_finding("archive-too-many-members", where,
                                                  f"holds more than {config.max_archive_members} members"))
                    return
                yield from _tar_member(config, scratch, exam, tf, info, member)
        except (tarfile.TarError, OSError, EOFError) as exc:
            exam.unread.append(f"{where}: tar breaks after {count} members ({exc})")


def _tar_member(config: ScanConfig, scratch: Scratch, exam: FileExam, tf: tarfile.TarFile,
                info: tarfile.TarInfo, member: str | None) -> Iterator[Member]:
    name = info.name[2:] if info.name.startswith("./") else info.name
    label = _inner(member, name)
    where = _where(exam, label)
    _check_path(exam, name, where)
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
    # tarfile reads (and extracts) a member of a type it does not know as a regular file
    readable = info.isfile() or info.type not in tarfile.SUPPORTED_TYPES
    if not readable or _too_big(config, exam, where, info.size, info.size):
        return
    fh = tf.extractfile(info)
    if fh is None:
        return
    with fh:
        if _settled_by_head(config, exam, fh.read(HEAD_BYTES + 1), info.size, name, label):
            return
        fh.seek(0)
        copy = scratch.path(posixpath.basename(name))
        copied = scratch.copy(fh, copy, config.max_member_bytes)
    if copied is None:
        exam.unread.append(f"{where}: member does not fit the unpack budget")
        return
    yield Member(label, copy, posixpath.basename(name))


def _check_path(exam: FileExam, name: str, where: str) -> None:
    stripped = name.rstrip("/")
    if stripped in ("", "."):  # the archive's own root entry (tar -C dir .)
        return
    reason = unsafe_reason(stripped)
    if reason:
        exam.findings.append(_finding("archive-path-traversal", where, f"member path is unsafe: {reason}"))


def inflate(config: ScanConfig, scratch: Scratch, exam: FileExam, path: Path, member: str | None,
            fmt: str) -> Iterator[Member]:
    """Inflate into scratch under a size cap and a ratio cap, then hand back what came out."""
    where = _where(exam, member)
    label = _inner(member, "(decompressed)")
    copy = scratch.path(Path(member or exam.path).name + ".inner")
    limit = min(config.max_member_bytes, scratch.left)
    if limit <= 0:
        exam.unread.append(f"{where}: the unpack budget is used up")
        return
    packed = path.stat().st_size
    try:
        with open(path, "rb") as raw:
            written = _inflate(raw, fmt, copy, limit, packed, config.max_compression_ratio)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError, RuntimeError) as exc:
        exam.findings.append(_finding("compressed-corrupt", where, f"{fmt} stream is corrupt ({exc})",
                                      Severity.MEDIUM))
        exam.unread.append(f"{where}: {fmt} stream does not inflate")
        return
    if written is None:
        exam.findings.append(_finding("compression-bomb", where,
                                      f"{fmt} stream inflates past the policy's caps ({limit} bytes, "
                                      f"ratio {config.max_compression_ratio:.0f}x)"))
        return
    scratch.unpacked += written
    yield Member(label, copy, Path(exam.path).name)


def _openers() -> dict[str, Callable[[BinaryIO], Any]]:
    def lz4_frame(f: BinaryIO) -> Any:
        import lz4.frame  # type: ignore[import-untyped]

        return lz4.frame.LZ4FrameFile(f, mode="rb")

    def zstd(f: BinaryIO) -> Any:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)

    return {"gzip": lambda f: gzip.GzipFile(fileobj=f), "bz2": bz2.BZ2File, "xz": lzma.LZMAFile,
            "lzma": lambda f: lzma.LZMAFile(f, format=lzma.FORMAT_ALONE), "zlib": _ZlibReader,
            "lz4": lz4_frame, "zstd": zstd}


def _inflate(raw: BinaryIO, fmt: str, dest: Path, limit: int, packed: int, max_ratio: float) -> int | None:
    written = 0
    with _openers()[fmt](raw) as stream, open(dest, "wb") as out:
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


def _too_big(config: ScanConfig, exam: FileExam, where: str, size: int, packed: int) -> bool:
    if size > config.max_member_bytes:
        exam.findings.append(_finding("archive-member-too-large", where,
                                      f"unpacks to {size} bytes (policy cap {config.max_member_bytes})"))
        return True
    if size > RATIO_FLOOR and size > config.max_compression_ratio * max(packed, 1):
        exam.findings.append(_finding("archive-bomb", where,
                                      f"compresses {size / max(packed, 1):.0f}x ({packed} -> {size} bytes): "
                                      "a decompression bomb"))
        return True
    return False


def _finding(code: str, where: str, text: str, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(severity, code, f"{where} {text}")
