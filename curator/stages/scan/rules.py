"""Which imports a pickle (or a Keras config) may make: exact allow-list entries, a floor of dangerous ones.

An allow-list entry is an exact ``module.name`` pair; a glob may stand only for the last
segment and never matches a dotted name (attribute traversal). A deny entry ``module.*``
covers the module and every submodule. The data constructors of ``builtins`` are data,
every other builtin (``eval``, ``getattr``, ``__import__``, ``open``, ...) stays dangerous.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from curator.core.errors import UsageError

#: a floor no policy can lower: importing any of these from a model file is never benign
ALWAYS_DANGEROUS = (
    "os.*", "posix.*", "nt.*", "subprocess.*", "sys.*", "builtins.*", "__builtin__.*",
    "__builtins__.*", "socket.*",
    "shutil.*", "runpy.*", "importlib.*", "pty.*", "commands.*", "webbrowser.*", "ctypes.*",
    "pickle.*", "_pickle.*", "marshal.*", "types.*", "code.*", "codeop.*", "pydoc.*", "timeit.*",
    "multiprocessing.*", "asyncio.*", "pdb.*", "bdb.*", "platform.*", "signal.*", "shelve.*",
    "antigravity.*", "this.*", "_posixsubprocess.*", "posixpath.*", "ntpath.*", "genericpath.*",
    "_io.*", "io.*", "_thread.*", "threading.*", "concurrent.*", "sysconfig.*", "site.*", "imp.*",
    "zipimport.*", "pkgutil.*", "doctest.*", "trace.*", "profile.*", "cProfile.*", "pstats.*",
    "operator.attrgetter", "operator.methodcaller", "operator.call", "functools.partial",
    "_operator.attrgetter", "_operator.methodcaller", "_operator.call",
    "_functools.partial", "functools.reduce", "_functools.reduce", "copyreg.add_extension",
    # importing these runs a program (a test runner, IDLE, a venv or pip installer, a GUI demo);
    # any ``pkg.__main__`` does too, whatever the package (GlobalRules.is_dangerous)
    "unittest.*", "test.*", "idlelib.*", "lib2to3.*", "ensurepip.*", "venv.*", "turtledemo.*",
    "turtle.*", "tkinter.*", "__hello__.*", "__phello__.*",
)
#: built-in types a data pickle constructs (py2 streams name them ``__builtin__.X``)
DATA_CONSTRUCTORS = frozenset({"set", "frozenset", "slice", "complex", "range", "bytearray", "bytes", "dict",
                               "list", "tuple", "int", "float", "str", "bool", "object"})
BUILTIN_MODULES = frozenset({"builtins", "__builtin__", "__builtins__"})
_GLOB = set("*?[")


@dataclass(frozen=True)
class Entry:
    """``module.name``: ``name`` may be a glob (never matching a dot); deny entries may be ``module.*``."""

    module: str
    name: str

    @classmethod
    def parse(cls, text: str, deny: bool = False) -> Entry:
        module, _, name = text.strip().rpartition(".")
        if not module or not name or _GLOB & set(module):
            raise UsageError(f"scan allow/deny entry {text!r} is not module.name",
                             "name one object exactly; a glob may only stand for the last segment")
        if not deny and name == "*":
            raise UsageError(f"scan safe_globals entry {text!r} allows a whole module",
                             "list the classes instead (scripts/safe_globals.py generates such lists)")
        return cls(module, name)

    def allows(self, module: str, name: str) -> bool:
        return module == self.module and "." not in name and fnmatch.fnmatchcase(name, self.name)

    def denies(self, module: str, name: str) -> bool:
        if self.name == "*":
            return module == self.module or module.startswith(self.module + ".")
        head = name.split(".", 1)[0]
        return module == self.module and fnmatch.fnmatchcase(head, self.name)


@dataclass(frozen=True)
class GlobalRules:
    """Allowed imports pass, dangerous ones block, the rest are graded by what the stream does with them."""

    safe: tuple[Entry, ...] = ()
    dangerous: tuple[Entry, ...] = tuple(Entry.parse(p, deny=True) for p in ALWAYS_DANGEROUS)
    _by_module: dict[str, tuple[Entry, ...]] = field(default_factory=dict, init=False, repr=False,
                                                    compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Entry]] = {}
        for entry in self.safe:
            index.setdefault(entry.module, []).append(entry)
        object.__setattr__(self, "_by_module", {m: tuple(v) for m, v in index.items()})

    @classmethod
    def build(cls, safe: list[str], dangerous: list[str]) -> GlobalRules:
        return cls(tuple(Entry.parse(p) for p in safe),
                   tuple(Entry.parse(p, deny=True) for p in (*ALWAYS_DANGEROUS, *dangerous)))

    def is_safe(self, module: str, name: str) -> bool:
        if module in BUILTIN_MODULES:
            return name in DATA_CONSTRUCTORS
        return any(e.allows(module, name) for e in self._by_module.get(module, ()))

    def is_dangerous(self, module: str, name: str) -> bool:
        if module in BUILTIN_MODULES and name in DATA_CONSTRUCTORS:
            return False
        if "__main__" in module.split(".")[1:]:  # a package's __main__ runs the program when imported
            return True
        return any(e.denies(module, name) for e in self.dangerous)

    def reaches_danger(self, module: str, name: str) -> bool:
        """``('logging', 'os.system')`` is ``os.system`` reached through logging's namespace."""
        if self.is_dangerous(module, name):
            return True
        parts = name.split(".")
        if any(p.startswith("__") for p in parts[:-1]):  # Foo.__init__.__globals__ and the like
            return True
        return any(self.is_dangerous(".".join(parts[i:-1]), parts[-1]) or
                   self.is_dangerous(".".join(parts[i:j]), parts[j])
                   for i in range(len(parts) - 1) for j in range(i + 1, len(parts)))


#: allow-listed functions that call (or construct) what they are given: (position, use)
CALL_GADGETS: dict[str, tuple[tuple[int, str], ...]] = {
    "torch._tensor._rebuild_from_type_v2": ((0, "call"), (1, "new"), (3, "build")),
    "torch._utils._rebuild_wrapper_subclass": ((0, "new"),),
    # backward hooks: kept, and called by the first backward pass
    "torch._utils._rebuild_parameter": ((2, "hooks"),),
    "torch._utils._rebuild_parameter_with_state": ((2, "hooks"), (3, "build")),
    "torch._utils._rebuild_tensor_v2": ((5, "hooks"),),
    "torch._utils._rebuild_tensor_v3": ((5, "hooks"),),
    "torch._utils._rebuild_qtensor": ((6, "hooks"),),
    "copyreg._reconstructor": ((0, "new"), (1, "call")),
    "copyreg.__newobj__": ((0, "new"),),
    "copyreg.__newobj_ex__": ((0, "new"),),
    "collections.defaultdict": ((0, "call"),),  # the factory runs on the first missing key
    "numpy.random._pickle.__randomstate_ctor": ((0, "new"), (1, "call")),
    "numpy.random._pickle.__generator_ctor": ((0, "new"), (1, "call")),
    "numpy.random._pickle.__bit_generator_ctor": ((0, "new"),),
    "numpy.core.multiarray._reconstruct": ((0, "new"),),
    "numpy._core.multiarray._reconstruct": ((0, "new"),),
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence": ((0, "new"),),
    "numpy.ma.core._mareconstruct": ((0, "new"), (1, "new")),
}

#: allowed functions that import ``module`` and return its attribute ``name`` (NumPy pickles ufuncs
#: this way): with two literal strings they are that import, with anything else a computed call
IMPORTERS = frozenset({"numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct"})

#: what torch.save writes for a plain state dict; only pickles made of these skip modelaudit
_STORAGES = ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
             "ComplexFloat", "ComplexDouble", "QInt8", "QUInt8", "QInt32", "QUInt4x2", "QUInt2x4")
_DTYPES = ("float16", "float32", "float64", "bfloat16", "half", "float", "double", "int8", "int16", "int32",
           "int64", "uint8", "bool", "long", "int", "short", "complex64", "complex128", "qint8", "quint8",
           "qint32", "float8_e4m3fn", "float8_e5m2")
TORCH_STATE_DICT = frozenset({
    "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter", "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage", "torch.storage.UntypedStorage", "torch.Size",
    "torch.device", "torch.serialization._get_layout", "torch.per_tensor_affine", "torch.strided",
    "torch.sparse_coo",
    *(f"torch.{s}Storage" for s in _STORAGES), *(f"torch.{d}" for d in _DTYPES),
})
