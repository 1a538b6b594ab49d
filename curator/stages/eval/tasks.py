"""Which evaluation tasks a run can use: curator's own offline set, task YAML files, built-ins.

Curator's own tasks live in ``checklists/evals/tasks/*.yaml`` with their data beside them;
lm-eval needs absolute data paths, so each run renders them into its own folder. A
built-in lm-eval task (arc_easy, hellaswag, mmlu_*) runs only when its dataset is on this
machine: parquet/json exports under a configured folder, or a pre-filled datasets cache.
The parent resolves names without importing lm-eval; the child resolves built-ins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curator.core.errors import UsageError
from curator.core.hashing import file_sha256

DATA_SUFFIXES = (".parquet", ".jsonl", ".json")
SPLIT_KEYS = ("test_split", "validation_split", "training_split", "fewshot_split")


@dataclass(frozen=True)
class TaskRef:
    """One requested task: where it comes from, and its files' digests when curator can tell."""

    name: str
    source: str  # curator | yaml | builtin
    yaml_path: str | None = None  # the rendered YAML lm-eval reads (curator, yaml)
    config_sha256: str | None = None  # of the task's source YAML
    data_files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    default_shots: int | None = None  # the YAML's num_fewshot (lm-eval's default 0); None: unknown

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.name, "source": self.source, "config_sha256": self.config_sha256,
                "data_files": self.data_files}


class _LenientLoader(yaml.SafeLoader):
    """Reads lm-eval YAML far enough to learn a task's name; ``!function`` stays a string."""


_LenientLoader.add_multi_constructor("!", lambda loader, suffix, node: f"!{suffix}")


def _read_task_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LenientLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"task file {path} cannot be read ({exc})",
                         "fix the YAML or pass an lm-eval task name") from exc
    if not isinstance(data, dict) or not isinstance(data.get("task"), str):
        raise UsageError(f"task file {path} has no 'task:' name",
                         "give it 'task: NAME' as lm-eval task YAMLs do")
    return data


def _absolute_data_files(data: dict[str, Any], base: Path) -> dict[str, str]:
    """Point ``dataset_kwargs.data_files`` at absolute paths; returns path -> sha256."""
    kwargs = data.get("dataset_kwargs")
    files = kwargs.get("data_files") if isinstance(kwargs, dict) else None
    if not isinstance(files, dict):
        return {}
    hashes: dict[str, str] = {}
    for split, value in files.items():
        paths = value if isinstance(value, list) else [value]
        resolved = []
        for item in paths:
            text = str(item)
            if "://" in text:  # a URL stays as written; the child refuses the network anyway
                resolved.append(text)
                continue
            path = (base / text).resolve()
            if not path.is_file():
                raise UsageError(f"task data file {path} (split '{split}') is missing",
                                 "restore it or fix dataset_kwargs.data_files")
            hashes[str(path)] = file_sha256(path)[1]
            resolved.append(str(path))
        files[split] = resolved if isinstance(value, list) else resolved[0]
    return hashes


def curator_task_files(evals_dir: Path) -> dict[str, Path]:
    """Curator's own task YAMLs by task name."""
    tasks_dir = evals_dir / "tasks"
    found: dict[str, Path] = {}
    for path in sorted(tasks_dir.glob("*.yaml")) if tasks_dir.is_dir() else []:
        found[_read_task_yaml(path)["task"]] = path
    return found


def curator_tags(evals_dir: Path) -> dict[str, list[str]]:
    """Tag -> task names in curator's set (``curator`` runs all of them)."""
    tags: dict[str, list[str]] = {}
    for name, path in curator_task_files(evals_dir).items():
        raw = _read_task_yaml(path).get("tag") or []
        for tag in [raw] if isinstance(raw, str) else raw:
            tags.setdefault(str(tag), []).append(name)
    return tags


def _render(source: Path, name: str, out_dir: Path, origin: str) -> TaskRef:
    data = _read_task_yaml(source)
    if "include" in data or any(isinstance(v, str) and v.startswith("!") for v in data.values()):
        # includes and !function need the YAML's own folder: lm-eval reads it in place
        return TaskRef(name, origin, str(source), file_sha256(source)[1], {})
    hashes = _absolute_data_files(data, source.parent)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    shots = data.get("num_fewshot", 0)
    return TaskRef(name, origin, str(target), file_sha256(source)[1], hashes,
                   shots if isinstance(shots, int) else None)


def resolve_tasks(requested: list[str], evals_dir: Path, out_dir: Path) -> list[TaskRef]:
    """Turn task names, curator tags and YAML paths into TaskRefs, curator's rendered."""
    own = curator_task_files(evals_dir)
    tags = curator_tags(evals_dir)
    refs: dict[str, TaskRef] = {}
    for item in requested:
        path = Path(item).expanduser()
        if item.endswith((".yaml", ".yml")) or path.is_file():
            if not path.is_file():
                raise UsageError(f"task file {item} does not exist",
                                 "pass an existing task YAML or an lm-eval task name")
            name = _read_task_yaml(path)["task"]
            refs[name] = _render(path.resolve(), name, out_dir, "yaml")
        elif item in own:
            refs[item] = _render(own[item], item, out_dir, "curator")
        elif item in tags:
            for name in tags[item]:
                refs[name] = _render(own[name], name, out_dir, "curator")
        else:
            refs[item] = TaskRef(item, "builtin")
    return list(refs.values())


# -- child side: built-in tasks whose data is on this machine ------------------------------
def _local_split_files(root: Path, split: str) -> list[str]:
    files = [p for p in sorted(root.glob(f"{split}*")) if p.suffix in DATA_SUFFIXES and p.is_file()]
    return [str(p) for p in files]


def _export_dir(datasets_dir: Path, dataset_path: str, dataset_name: str | None) -> Path:
    base = datasets_dir / dataset_path
    return base / dataset_name if dataset_name else base / "default"


def in_datasets_cache(cache: Path, dataset_path: str) -> bool:
    """True when a pre-filled HF cache holds this dataset (hub snapshot or built arrow)."""
    org_name = dataset_path.replace("/", "--")
    return ((cache / "hub" / f"datasets--{org_name}").is_dir()
            or (cache / "datasets" / dataset_path.replace("/", "___")).is_dir())


def builtin_config(cfg: dict[str, Any], datasets_dir: Path | None,
                   datasets_cache: Path | None) -> tuple[dict[str, Any] | None, str, dict[str, str]]:
    """A built-in task's config pointed at local data, or None and why it cannot run.

    ``cfg`` is the task's full YAML config as lm-eval loads it. Returns the config to hand
    to lm-eval, where the data came from, and the local data files' sha256.
    """
    dataset_path = str(cfg.get("dataset_path") or "")
    dataset_name = cfg.get("dataset_name") if isinstance(cfg.get("dataset_name"), str) else None
    if not dataset_path:
        return None, "the task names no dataset_path", {}
    if datasets_dir is not None:
        folder = _export_dir(datasets_dir, dataset_path, dataset_name)
        splits = {key: str(cfg[key]) for key in SPLIT_KEYS if cfg.get(key)}
        files = {split: found for split in set(splits.values())
                 if (found := _local_split_files(folder, split))}
        eval_split = cfg.get("test_split") or cfg.get("validation_split")
        if eval_split and str(eval_split) in files:
            overrides: dict[str, Any] = {key: (split if split in files else None)
                                         for key, split in splits.items()}
            kind = "parquet" if files[str(eval_split)][0].endswith(".parquet") else "json"
            new = {**cfg, **overrides, "dataset_path": kind, "dataset_name": None,
                   "dataset_kwargs": {"data_files": files}}
            hashes = {p: file_sha256(Path(p))[1] for ps in files.values() for p in ps}
            return new, f"local export {folder}", hashes
    if datasets_cache is not None and in_datasets_cache(datasets_cache, dataset_path):
        return cfg, f"datasets cache {datasets_cache}", {}
    where = (f"export its splits as parquet under {_export_dir(datasets_dir, dataset_path, dataset_name)}"
             if datasets_dir else "set eval.datasets_dir to a folder of parquet exports")
    return None, (f"dataset {dataset_path}{'/' + dataset_name if dataset_name else ''} is not on this "
                  f"machine: {where}, or pre-fill eval.datasets_cache"), {}


def digest_text(text: str) -> str:
    """sha256 hex of a text, for task configs lm-eval holds only in memory."""
    return hashlib.sha256(text.encode()).hexdigest()
