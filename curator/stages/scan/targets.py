"""What examining one file yields: curator's own findings, and the targets handed to scanners."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from curator.core.models import Finding


@dataclass(frozen=True)
class ScanTarget:
    """One path a scanner is asked to read, and where in the candidate it came from.

    ``path`` is the candidate's own file when the scanner can read it as it is, else a copy
    curator made in its scratch folder (an archive member, a decompressed stream, a pickle
    with joblib's array bytes cut out). ``suffix`` is the extension scanners that choose a
    parser by name must see (modelscan skips a raw pickle named ``.bin``).
    """

    key: str
    path: Path
    file: str
    member: str | None
    format: str  # pickle | hdf5 | keras | gguf | template | savedmodel | file (the candidate's file as it is)
    size: int
    #: the file name scanners see (they choose parsers by extension, some by the whole name)
    link_name: str = "model"
    #: a pickle of nothing but torch's state-dict rebuild calls (modelaudit may skip it)
    state_dict: bool = False
    #: curator's own reader that read this content completely: a scanner that cannot parse it
    #: leaves a note, not an unscanned file (its findings still count)
    covered_by: str | None = None
    #: for a ``file`` target: the format curator found in it
    sniffed: str = ""

    @property
    def label(self) -> str:
        return f"{self.file}!{self.member}" if self.member else self.file


@dataclass
class FileExam:
    """Everything curator's own checks learned about one file of the candidate."""

    path: str
    size: int
    format: str
    detail: str = ""
    findings: list[Finding] = field(default_factory=list)
    targets: list[ScanTarget] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # code-capable content nobody could read
    parts: list[dict[str, object]] = field(default_factory=list)  # members and layers looked at
    exhausted: bool = False  # a pickle walk stopped at the opcode budget: no scanner gets the file
    pickles: int = 0
    state_dicts: int = 0  # pickles made only of torch state-dict rebuild calls
