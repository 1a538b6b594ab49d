"""The hub's routes: the API and ``/resolve`` on one origin, LFS blobs on another.

LFS files answer ``/resolve`` with a 302 to the blob listener (another port, so another
origin, as the Hub's CDN is): huggingface_hub then reads ``X-Linked-Etag`` and
``X-Linked-Size`` from the redirect itself and drops the token on the way.
"""

from __future__ import annotations

import hashlib
import mimetypes
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from curator.demo import listing
from curator.demo.faults import hits
from curator.demo.gitobjects import git_blob_sha1
from curator.demo.handler import HubHandler
from curator.demo.store import Commit, Repo

_TRUE = ("1", "true", "yes")


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return any(v.lower() in _TRUE for v in query.get(name, []))


def _content_type(path: str) -> str:
    if path.endswith((".md", ".txt")):
        return "text/plain; charset=utf-8"
    guessed = mimetypes.guess_type(path)[0]
    return guessed or "application/octet-stream"


def _disposition(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name.replace(chr(34), '')}\";"


class ApiHandler(HubHandler):
    """``/api/models/...`` and ``/{repo}/resolve/{rev}/{path}``."""

    def route(self) -> None:
        url = urlsplit(self.path)
        segs = url.path.split("/")[1:]
        query = parse_qs(url.query)
        if segs[:2] == ["api", "models"] and len(segs) >= 4:
            repo = self._open(unquote(segs[2]) + "/" + unquote(segs[3]))
            if repo is None:
                return
            rest = segs[4:]
            if not rest or rest == [""]:
                self._model_info(repo, "main", query)
            elif rest[0] == "revision" and len(rest) >= 2:
                self._model_info(repo, unquote("/".join(rest[1:])), query)
            elif rest[0] == "tree" and len(rest) >= 2:
                self._tree(repo, unquote(rest[1]), unquote("/".join(rest[2:])), query)
            elif rest == ["refs"]:
                self.send_json(200, listing.refs(repo, _flag(query, "include_prs")))
            else:
                self.send_hub_error(404, None, "Sorry, we can't find the page you are looking for.")
        elif len(segs) >= 5 and segs[2] == "resolve":
            revision, path = unquote(segs[3]), unquote("/".join(segs[4:]))
            if segs[3] == "refs" and len(segs) >= 7 and segs[4] == "pr":  # unencoded refs/pr/N
                revision, path = f"refs/pr/{unquote(segs[5])}", unquote("/".join(segs[6:]))
            repo = self._open(unquote(segs[0]) + "/" + unquote(segs[1]))
            if repo is not None and self._admitted(repo):
                self._resolve(repo, revision, path)
        else:
            self.send_hub_error(404, None, "Sorry, we can't find the page you are looking for.")

    # -- access --------------------------------------------------------------------------
    def _open(self, repo_id: str) -> Repo | None:
        """The repo, or a RepoNotFound answer (401 without a token, 404 with one, as the Hub)."""
        repo = self.hub.store.repo(repo_id)
        auth = self.headers.get("Authorization")
        if repo is not None and (not repo.settings.get("private") or self.hub.authorized(auth)):
            return repo
        self.send_hub_error(404 if auth else 401, "RepoNotFound", "Repository not found")
        return None

    def _admitted(self, repo: Repo) -> bool:
        """Gated repos show their metadata to anyone but their files only to a known token."""
        auth = self.headers.get("Authorization")
        if not repo.settings.get("gated") or self.hub.authorized(auth):
            return True
        self.send_hub_error(403 if auth else 401, "GatedRepo",
                            f"Access to model {repo.repo_id} is restricted. You must have access "
                            "to it and be authenticated to access it. Please log in.")
        return False

    def _commit(self, repo: Repo, revision: str) -> Commit | None:
        commit = repo.resolve(revision)
        if commit is None:
            self.send_hub_error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return commit

    # -- API -----------------------------------------------------------------------------
    def _model_info(self, repo: Repo, revision: str, query: dict[str, list[str]]) -> None:
        commit = self._commit(repo, revision)
        if commit is not None:
            expand = query.get("expand", []) + query.get("expand[]", [])
            self.send_json(200, listing.model_info(repo, commit, self.hub.faults,
                                                   _flag(query, "blobs"), expand))

    def _tree(self, repo: Repo, revision: str, path: str, query: dict[str, list[str]]) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return
        entries = listing.tree_entries(repo, commit, path, _flag(query, "recursive"),
                                       _flag(query, "expand"), self.hub.faults)
        if entries is None:
            self.send_hub_error(404, "EntryNotFound", f"{path} does not exist on \"{revision}\"",
                                {"X-Repo-Commit": commit.sha})
            return
        cursor = int(query["cursor"][0]) if query.get("cursor", [""])[0].isdigit() else 0
        size = self.hub.page_size
        headers = {}
        if cursor + size < len(entries):
            params = {k: v[0] for k, v in query.items() if k != "cursor"}
            params["cursor"] = str(cursor + size)
            where = f"/{quote(path, safe='')}" if path else ""
            nxt = (f"{self._base()}/api/models/{repo.repo_id}/tree/{quote(revision, safe='')}"
                   f"{where}?{urlencode(params)}")
            headers["Link"] = f'<{nxt}>; rel="next"'
        self.send_json(200, entries[cursor:cursor + size], headers)

    def _base(self) -> str:
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.hub.url

    # -- files ---------------------------------------------------------------------------
    def _resolve(self, repo: Repo, revision: str, path: str) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return
        faults = self.hub.faults
        served = commit.sha
        if hits(faults.wrong_commit, path):
            served = hashlib.sha1(f"not {commit.sha}".encode()).hexdigest()
        stored = commit.files.get(path)
        extra = faults.extra_files.get(path)
        if stored is None and extra is None:
            self.send_hub_error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": served})
            return
        base = {"X-Repo-Commit": served, "Content-Type": _content_type(path),
                "Content-Disposition": _disposition(path)}
        if stored is None:
            assert extra is not None
            self.send_bytes(path, len(extra), {**base, "ETag": f'"{git_blob_sha1(extra)}"'}, data=extra)
        elif stored.lfs:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0] or self.hub.host
            location = (f"http://{host}:{self.hub.blob_port}/lfs/{repo.repo_id}/{stored.sha256}"
                        f"?{urlencode({'filename': path})}")
            self.send_response(302)
            for name, value in {**base, "Location": location, "ETag": f'"{stored.sha256}"',
                                "X-Linked-Etag": f'"{stored.sha256}"', "X-Linked-Size": str(stored.size),
                                "Content-Length": "0"}.items():
                self.send_header(name, value)
            self.end_headers()
        else:
            self.send_bytes(path, stored.size, {**base, "ETag": f'"{stored.blob_id}"'},
                            location=stored.location)


class BlobHandler(HubHandler):
    """``/lfs/{org}/{name}/{sha256}?filename=PATH``: the CDN stand-in, no auth, Range support."""

    def route(self) -> None:
        url = urlsplit(self.path)
        segs = url.path.split("/")[1:]
        query = parse_qs(url.query)
        repo = self.hub.store.repo(f"{unquote(segs[1])}/{unquote(segs[2])}") \
            if len(segs) == 4 and segs[0] == "lfs" else None
        stored = repo.blob(segs[3]) if repo else None
        if stored is None:
            self.send_json(404, {"error": "NoSuchKey"})
            return
        path = query.get("filename", [stored.path])[0]
        self.send_bytes(path, stored.size, {
            "Content-Type": "application/octet-stream", "ETag": f'"{stored.sha256}"',
            "Content-Disposition": _disposition(path)}, location=stored.location)
