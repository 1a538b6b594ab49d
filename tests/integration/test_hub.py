"""The local hub against the real huggingface_hub client, over loopback.

Every file is built by the test itself; faults are observed through what the client
gets, never by peeking at the server's internals.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickletools
import shutil
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from curator.demo.gitobjects import LFS_THRESHOLD, git_blob_sha1, lfs_pointer
from curator.demo.hub import HubServer
from curator.demo.samples import RECIPES, build_samples
from curator.demo.store import HubStore
from tests.needs import need_module

REPO = "acme/tiny"
WEIGHTS = bytes(range(256)) * 12_288  # 3 MiB, LFS by its *.safetensors name
CONFIG = b'{"model_type": "gpt2"}\n'
CARD = b"---\nlicense: apache-2.0\ndatasets: [roneneldan/TinyStories]\n---\n# tiny\n"
FILES = {"config.json": CONFIG, "model.safetensors": WEIGHTS, "README.md": CARD,
         "tokenizer/vocab.txt": b"a\nb\nc\n"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def repo(hub_store: HubStore) -> dict[str, str]:
    """Two commits of REPO: v1.0 (tagged) and main; returns the refs."""
    v1 = hub_store.publish(REPO, {**FILES, "model.safetensors": WEIGHTS[::-1]}, tags=["v1.0"],
                           message="v1.0")
    main = hub_store.publish(REPO, FILES, message="retrain")
    return {"v1.0": v1, "main": main}


# -- downloads --------------------------------------------------------------------------------
def test_snapshot_download_brings_every_file_byte_exact(hub: HubServer, repo: dict[str, str],
                                                        tmp_path: Path) -> None:
    folder = Path(snapshot_download(REPO, endpoint=hub.url, cache_dir=tmp_path / "cache"))
    assert folder.name == repo["main"]
    got = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert got == FILES
    lfs_gets = [r for r in hub.requests if r.method == "GET" and "/lfs/" in r.path]
    assert [r.listener for r in lfs_gets] == ["BlobHandler"]  # LFS bytes came from the other origin


@pytest.mark.parametrize("which", ["v1.0", "main", "full", "short", "refs/tags/v1.0"])
def test_every_kind_of_revision_resolves(hub: HubServer, repo: dict[str, str], tmp_path: Path,
                                         which: str) -> None:
    commit = repo["main"] if which == "main" else repo["v1.0"]
    revision = {"full": commit, "short": commit[:7]}.get(which, which)
    path = hf_hub_download(REPO, "model.safetensors", revision=revision, endpoint=hub.url,
                           cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == (WEIGHTS if which == "main" else WEIGHTS[::-1])
    assert HfApi(endpoint=hub.url).model_info(REPO, revision=revision).sha == commit


def test_model_info_files_metadata_matches_the_bytes(hub: HubServer, repo: dict[str, str]) -> None:
    info = HfApi(endpoint=hub.url).model_info(REPO, files_metadata=True)
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert set(siblings) == set(FILES) and info.sha == repo["main"] and info.id == REPO
    config = siblings["config.json"]
    assert (config.size, config.lfs) == (len(CONFIG), None)
    assert config.blob_id == _git_hash_object(CONFIG)
    weights = siblings["model.safetensors"]
    assert weights.lfs is not None and weights.size == len(WEIGHTS)
    assert (weights.lfs.sha256, weights.lfs.size) == (sha256(WEIGHTS), len(WEIGHTS))
    pointer = lfs_pointer(sha256(WEIGHTS), len(WEIGHTS))
    assert weights.lfs.pointer_size == len(pointer)
    assert weights.blob_id == _git_hash_object(pointer)  # as on the Hub: git holds the pointer
    assert info.card_data is not None and info.card_data.license == "apache-2.0"
    assert "license:apache-2.0" in (info.tags or [])
    assert [s.size for s in HfApi(endpoint=hub.url).model_info(REPO).siblings or []] == [None] * 4


def _git_hash_object(data: bytes) -> str:
    """git itself as the oracle when it is installed, else the documented formula."""
    if shutil.which("git"):
        out = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True)
        return out.stdout.decode().strip()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_files_of_10_mib_or_more_are_lfs_whatever_their_name(hub_store: HubStore, hub: HubServer) -> None:
    big = os.urandom(LFS_THRESHOLD)
    hub_store.publish(REPO, {"weights.dat": big, "notes.dat": b"small"})
    info = HfApi(endpoint=hub.url).model_info(REPO, files_metadata=True)
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert siblings["weights.dat"].lfs is not None and siblings["weights.dat"].lfs.sha256 == sha256(big)
    assert siblings["notes.dat"].lfs is None


def test_a_plain_folder_is_one_commit_on_main(hub_store: HubStore, hub: HubServer, tmp_path: Path) -> None:
    folder = hub_store.root / "local" / "plain"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_bytes(CONFIG)
    (folder / "sub" / "model.safetensors").write_bytes(WEIGHTS)
    (folder / "leak.txt").symlink_to("/etc/hostname")  # never served: it points outside the repo
    api = HfApi(endpoint=hub.url)
    first = api.model_info("local/plain", files_metadata=True)
    assert first.sha == api.model_info("local/plain").sha  # deterministic
    assert sorted(s.rfilename for s in first.siblings or []) == ["config.json", "sub/model.safetensors"]
    assert api.list_repo_refs("local/plain").branches[0].target_commit == first.sha
    got = Path(snapshot_download("local/plain", endpoint=hub.url, cache_dir=tmp_path / "c"))
    assert (got / "sub" / "model.safetensors").read_bytes() == WEIGHTS
    (folder / "config.json").write_bytes(CONFIG + b" ")
    assert api.model_info("local/plain").sha != first.sha  # a changed file is a new commit


# -- listings ---------------------------------------------------------------------------------
def test_tree_is_paged_with_link_headers(hub: HubServer, repo: dict[str, str]) -> None:
    hub.page_size = 2
    entries = list(HfApi(endpoint=hub.url).list_repo_tree(REPO, recursive=True, revision=repo["main"]))
    files = {e.path: e for e in entries if e.__class__.__name__ == "RepoFile"}
    assert set(files) == set(FILES)
    assert [e.path for e in entries if e.__class__.__name__ == "RepoFolder"] == ["tokenizer"]
    assert files["model.safetensors"].lfs.sha256 == sha256(WEIGHTS)  # type: ignore[union-attr]
    pages = [r for r in hub.requests if "/tree/" in r.path]
    assert len(pages) == 3 and "cursor=" in pages[-1].path  # 5 entries, 2 a page


def test_tree_of_a_folder_and_of_a_missing_path(hub: HubServer, repo: dict[str, str]) -> None:
    api = HfApi(endpoint=hub.url)
    assert [e.path for e in api.list_repo_tree(REPO, "tokenizer")] == ["tokenizer/vocab.txt"]
    top = [e.path for e in api.list_repo_tree(REPO)]
    assert top == sorted(top) and "tokenizer" in top and "tokenizer/vocab.txt" not in top
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree(REPO, "no/such/folder"))
    expanded = list(api.list_repo_tree(REPO, recursive=True, expand=True))
    last = {e.path: e.last_commit["oid"] for e in expanded if e.last_commit}  # type: ignore[index]
    assert last["model.safetensors"] == repo["main"] and last["config.json"] == repo["v1.0"]


def test_refs_list_branches_tags_and_pull_requests(hub_store: HubStore, hub: HubServer,
                                                   repo: dict[str, str], tmp_path: Path) -> None:
    pr = hub_store.publish(REPO, {**FILES, "extra.txt": b"pr"}, branch="refs/pr/1", message="PR")
    refs = HfApi(endpoint=hub.url).list_repo_refs(REPO, include_pull_requests=True)
    assert [(b.name, b.ref, b.target_commit) for b in refs.branches] == [("main", "refs/heads/main",
                                                                          repo["main"])]
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1.0", "refs/tags/v1.0", repo["v1.0"])]
    assert [(p.ref, p.target_commit) for p in refs.pull_requests or []] == [("refs/pr/1", pr)]
    extra = hf_hub_download(REPO, "extra.txt", revision="refs/pr/1", endpoint=hub.url, cache_dir=tmp_path)
    assert Path(extra).read_bytes() == b"pr"  # the revision travels URL-encoded: refs%2Fpr%2F1


# -- errors -----------------------------------------------------------------------------------
def test_missing_repo_revision_and_file_raise_the_hub_errors(hub: HubServer, repo: dict[str, str],
                                                             tmp_path: Path) -> None:
    api = HfApi(endpoint=hub.url)
    with pytest.raises(RepositoryNotFoundError) as missing:
        api.model_info("acme/nope")
    assert missing.value.response.status_code == 401  # anonymous, as the Hub answers
    with pytest.raises(RepositoryNotFoundError) as with_token:
        api.model_info("acme/nope", token="hf_someone")
    assert with_token.value.response.status_code == 404
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="v9")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "config.json", revision="deadbeef00", endpoint=hub.url, cache_dir=tmp_path)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "nope.json", endpoint=hub.url, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download("acme/nope", endpoint=hub.url, cache_dir=tmp_path)


def test_gated_repo_files_need_a_known_token(hub_store: HubStore, hub: HubServer, repo: dict[str, str],
                                             tmp_path: Path) -> None:
    hub_store.configure(REPO, gated="manual")
    hub.tokens.add("hf_curator")
    api = HfApi(endpoint=hub.url)
    assert api.model_info(REPO).gated == "manual"  # metadata stays public, as on the Hub
    for token, status in ((None, 401), ("hf_stranger", 403)):
        with pytest.raises(GatedRepoError) as gated:
            hf_hub_download(REPO, "config.json", endpoint=hub.url, cache_dir=tmp_path / "a", token=token)
        assert gated.value.response.status_code == status
    path = hf_hub_download(REPO, "model.safetensors", endpoint=hub.url, cache_dir=tmp_path / "b",
                           token="hf_curator")
    assert Path(path).read_bytes() == WEIGHTS
    blob = [r for r in hub.requests if r.listener == "BlobHandler"]
    assert blob and not any(r.with_token for r in blob)  # the token never left the hub's origin


def test_private_repo_is_not_found_without_a_token(hub_store: HubStore, hub: HubServer,
                                                   repo: dict[str, str]) -> None:
    hub_store.configure(REPO, private=True)
    hub.tokens.add("hf_curator")
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url).model_info(REPO)
    assert HfApi(endpoint=hub.url, token="hf_curator").model_info(REPO).private is True


# -- LFS redirect and ranges --------------------------------------------------------------------
def test_lfs_files_redirect_to_another_origin(hub: HubServer, repo: dict[str, str]) -> None:
    url = hf_hub_url(REPO, "model.safetensors", endpoint=hub.url)
    head = httpx2.head(url, follow_redirects=False)
    assert head.status_code == 302 and head.headers["x-repo-commit"] == repo["main"]
    target = urlsplit(head.headers["location"])
    assert target.port == hub.blob_port != hub.port
    assert head.headers["x-linked-etag"] == f'"{sha256(WEIGHTS)}"'
    assert head.headers["x-linked-size"] == str(len(WEIGHTS))
    meta = get_hf_file_metadata(url)  # the client reads the pointer facts off the redirect itself
    assert (meta.etag, meta.size, meta.commit_hash) == (sha256(WEIGHTS), len(WEIGHTS), repo["main"])
    body = httpx2.get(url, follow_redirects=True)
    assert body.content == WEIGHTS and body.headers["etag"] == f'"{sha256(WEIGHTS)}"'
    regular = httpx2.head(hf_hub_url(REPO, "config.json", endpoint=hub.url))
    assert regular.status_code == 200 and regular.headers["etag"] == f'"{git_blob_sha1(CONFIG)}"'
    assert regular.headers["content-length"] == str(len(CONFIG))


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
@pytest.mark.parametrize(("header", "status", "want"), [
    ("bytes=2-5", 206, slice(2, 6)),
    ("bytes=10-", 206, slice(10, None)),
    ("bytes=-4", 206, slice(-4, None)),
    ("bytes=0-0", 206, slice(0, 1)),
    ("bytes=0-4,8-9", 200, slice(None)),  # multi-range: ignored, whole body
    ("bytes=99999999-", 416, None),
])
def test_ranges(hub: HubServer, repo: dict[str, str], name: str, header: str, status: int,
                want: slice | None) -> None:
    r = httpx2.get(hf_hub_url(REPO, name, endpoint=hub.url), headers={"Range": header},
                   follow_redirects=True)
    assert r.status_code == status and r.headers["accept-ranges" if status != 416 else "content-range"]
    data = FILES[name]
    if want is not None:
        assert r.content == data[want]
    if status == 206:
        assert want is not None
        covered = range(len(data))[want]
        assert r.headers["content-range"] == f"bytes {covered[0]}-{covered[-1]}/{len(data)}"
    if status == 416:
        assert r.headers["content-range"] == f"bytes */{len(data)}"


# -- faults -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_corrupt_body_has_the_same_size_and_passes_the_client(hub: HubServer, repo: dict[str, str],
                                                              tmp_path: Path, name: str) -> None:
    hub.faults.corrupt.add(name)
    path = Path(hf_hub_download(REPO, name, endpoint=hub.url, cache_dir=tmp_path))
    got, want = path.read_bytes(), FILES[name]
    assert len(got) == len(want) and sum(a != b for a, b in zip(got, want, strict=True)) == 1
    if name == "model.safetensors":
        report = HfApi(endpoint=hub.url).verify_repo_checksums(REPO, cache_dir=tmp_path)
        assert [m["path"] for m in report.mismatches] == [name]


def test_wrong_commit_header_misplaces_files_silently(hub: HubServer, repo: dict[str, str],
                                                      tmp_path: Path) -> None:
    hub.faults.wrong_commit.add("*")
    head = httpx2.head(hf_hub_url(REPO, "config.json", endpoint=hub.url))
    assert head.headers["x-repo-commit"] != repo["main"]
    folder = Path(snapshot_download(REPO, endpoint=hub.url, cache_dir=tmp_path))
    assert folder.name == repo["main"] and not folder.exists()  # no error, no files


@pytest.mark.parametrize("every_time", [False, True])
def test_dropped_connection_once_or_every_time(hub: HubServer, repo: dict[str, str],
                                               every_time: bool) -> None:
    hub.faults.drop_after["model.safetensors"] = 1_000_000
    hub.faults.drop_every_time = every_time
    url = hf_hub_url(REPO, "model.safetensors", endpoint=hub.url)
    got = bytearray()
    with pytest.raises(httpx2.RemoteProtocolError), httpx2.stream("GET", url, follow_redirects=True) as r:
        for chunk in r.iter_raw():
            got += chunk
    assert len(got) == 1_000_000 and hub.faults.drops == 1
    resume = {"headers": {"Range": f"bytes={len(got)}-"}, "follow_redirects": True}
    if every_time:  # the resume is cut at the same offset, before any byte
        with pytest.raises(httpx2.RemoteProtocolError, match="received 0 bytes"):
            httpx2.get(url, **resume)  # type: ignore[arg-type]
        assert hub.faults.drops == 2
    else:
        rest = httpx2.get(url, **resume)  # type: ignore[arg-type]
        assert rest.status_code == 206 and bytes(got) + rest.content == WEIGHTS


def test_hf_hub_download_recovers_from_one_dropped_connection(hub: HubServer, repo: dict[str, str],
                                                              tmp_path: Path) -> None:
    hub.faults.drop_after["*"] = 65_536
    path = hf_hub_download(REPO, "model.safetensors", endpoint=hub.url, cache_dir=tmp_path)
    assert Path(path).read_bytes() == WEIGHTS and hub.faults.drops == 1


def test_listings_can_carry_traversal_names_and_wrong_sizes(hub: HubServer, repo: dict[str, str]) -> None:
    hub.faults.extra_files.update({"../evil.txt": b"escaped", "/etc/x": b"abs"})
    hub.faults.declared_size["model.safetensors"] = 7
    api = HfApi(endpoint=hub.url)
    siblings = {s.rfilename: s for s in api.model_info(REPO, files_metadata=True).siblings or []}
    assert {"../evil.txt", "/etc/x"} <= set(siblings)
    assert siblings["../evil.txt"].size == 7 and siblings["../evil.txt"].blob_id == git_blob_sha1(b"escaped")
    assert siblings["model.safetensors"].size == 7 and siblings["model.safetensors"].lfs.size == 7  # type: ignore[union-attr]
    tree = {e.path: e for e in api.list_repo_tree(REPO, recursive=True)}
    assert "../evil.txt" in tree and tree["model.safetensors"].size == 7  # type: ignore[union-attr]
    raw = httpx2.get(f"{hub.url}/{REPO}/resolve/main/..%2Fevil.txt")  # served to a client that asks
    assert raw.content == b"escaped"


# -- samples ----------------------------------------------------------------------------------
def test_samples_are_built_idempotently(tmp_path: Path) -> None:
    first = build_samples(tmp_path / "hub")
    blobs = {p: p.stat().st_mtime_ns for p in (tmp_path / "hub").rglob("blobs/*")}
    again = build_samples(tmp_path / "hub")
    assert again == first and {p: p.stat().st_mtime_ns for p in blobs} == blobs
    assert [s.repo_id for s in first] == [r.repo_id for r in RECIPES]
    assert first[0].repo_id == "acme-labs/tinyllama-clean"  # `curator demo` picks the first "clean"
    assert set(first[0].refs) == {"main", "v1.0", "v1.1", "v1.2"}
    assert first[0].refs["main"] != first[0].refs["v1.0"]
    assert first[0].refs["main"] == first[0].refs["v1.2"]  # the queue's second entry: the next revision
    elsewhere = build_samples(tmp_path / "other")
    assert [s.refs for s in elsewhere] == [s.refs for s in first]  # deterministic bytes, same shas


def test_samples_served(tmp_path: Path) -> None:
    build_samples(tmp_path / "hub")
    with HubServer(tmp_path / "hub") as hub:
        api = HfApi(endpoint=hub.url)
        clean = api.model_info("acme-labs/tinyllama-clean", files_metadata=True)
        names = {s.rfilename for s in clean.siblings or []}
        assert {"model.safetensors", "config.json", "README.md", "tokenizer_config.json",
                "generation_config.json", "tokenizer.json", "vocab.json", "merges.txt"} <= names
        card = clean.card_data
        assert card is not None and card.license == "apache-2.0" and card.base_model
        assert card.eval_results and card.eval_results[0].metric_value == 0.29  # main is release v1.2
        folder = Path(snapshot_download("acme-labs/tinyllama-clean", revision="v1.0", endpoint=hub.url,
                                        cache_dir=tmp_path / "cache"))
        _check_safetensors((folder / "model.safetensors").read_bytes())
        readme = (folder / "README.md").read_text()
        for section in ("## Training data", "## Training procedure", "## Evaluation", "Model card contact"):
            assert section in readme
        pickled = Path(hf_hub_download("acme-labs/tinyllama-pickled", "pytorch_model.bin", endpoint=hub.url,
                                       cache_dir=tmp_path / "cache"))
        thin = api.model_info("hobbyist99/tinyllama-finetune").card_data
        assert thin is not None and thin.license is None
        squat = api.model_info("acme-1abs/tinyllama-clean", files_metadata=True)
    _check_reduce_pickle(pickled)
    assert sum(a != b for a, b in zip("acme-1abs", "acme-labs", strict=True)) == 1
    weights = {s.rfilename: s.lfs.sha256 for s in squat.siblings or [] if s.lfs}  # type: ignore[union-attr]
    real = {s.rfilename: s.lfs.sha256 for s in clean.siblings or [] if s.lfs}  # type: ignore[union-attr]
    assert weights.keys() == real.keys() and weights != real


def _check_safetensors(data: bytes) -> None:
    """Parse the header as any reader would, and let the safetensors library agree."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    assert length % 8 == 0 and header.pop("__metadata__") == {"format": "pt"}
    end = max(t["data_offsets"][1] for t in header.values())
    assert 8 + length + end == len(data) and 2_000_000 < len(data) < 8_000_000
    assert header["transformer.wte.weight"]["shape"] == [1024, 128]
    numpy_reader = need_module("safetensors.numpy")
    tensors = numpy_reader.load(data)
    assert set(tensors) == set(header) and float(tensors["transformer.ln_f.weight"].sum()) == 128.0


def _check_reduce_pickle(path: Path) -> None:
    """Read the opcodes without executing them; a real scanner must flag the call."""
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(path.read_bytes())]
    assert ("GLOBAL", "os system") in ops and ("REDUCE", None) in ops and ops[0] == ("PROTO", 2)
    from picklescan.scanner import scan_file_path

    result = scan_file_path(str(path))
    assert result.infected_files == 1
    assert any((g.module, g.name) == ("os", "system") for g in result.globals)


# -- the command ------------------------------------------------------------------------------
def test_hub_serve_command_serves_samples_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "curator", "hub", "serve", str(tmp_path / "hub"),
                             "--samples", "--port", "0"], stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stderr or []:
            lines.append(line)
            if "HF_ENDPOINT=" in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert found.wait(120), "".join(lines)
        endpoint = next(line for line in lines if "HF_ENDPOINT=" in line).split("HF_ENDPOINT=")[1].strip()
        assert HfApi(endpoint=endpoint).model_info("acme-labs/tinyllama-clean").sha
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    assert code == 0


def test_hub_serve_command_refuses_bad_input(tmp_path: Path, hub: HubServer) -> None:
    missing = subprocess.run([sys.executable, "-m", "curator", "hub", "serve", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and missing.stdout == ""
    taken = subprocess.run([sys.executable, "-m", "curator", "hub", "serve", str(tmp_path),
                            "--port", str(hub.port)], capture_output=True, text=True, timeout=120)
    assert taken.returncode == 2 and "--port" in taken.stderr
    assert len(taken.stderr.strip().splitlines()) == 1
