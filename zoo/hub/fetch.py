"""``fetch``: a verified local path for a file named by URLs and a hash, downloading only when needed.

Order of looking: the zoo cache; torch's hub cache (a file torch already downloaded is reused when its hash
matches); then each source in turn (the URLs given, ``ZOO_MIRRORS``, the ``zoo_download_mirrors`` hook),
failing over on any error, a wrong hash included. ``ZOO_OFFLINE=1`` skips the network entirely.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from zoo._version import DISTRIBUTION, __version__
from zoo.errors import DownloadError, IntegrityError, OfflineError, OptionError
from zoo.hub import config, hashes, hf
from zoo.hub.config import Settings, torch_hub_checkpoints
from zoo.hub.hashes import Digest
from zoo.hub.partial import NoSpaceError, Partial
from zoo.hub.sources import all_sources, scheme
from zoo.hub.store import Store, check_filename, download_key, filename_from_url
from zoo.hub.transfer import SourceError, check_free_space, download
from zoo.utils.progress import wants_bar

LOCK_NOTICE_AFTER = 2.0


def cache_dir() -> Path:
    """The cache folder (``$ZOO_HOME``, else the platform's user cache folder for ``zoo``). Only ZOO_HOME is
    read: a malformed ZOO_OFFLINE is said where a download needs it, not by every cache path (a plugin
    naming its cache file at registration failed for it)."""
    return config.home()


def forget_unverified(path: str | Path) -> str | None:
    """Remove a cached file that was downloaded without a hash (it did not load as what it was fetched
    for: a server's error page, say), so the next ``fetch`` downloads it again; returns its URL, or None
    (and keeps the file) when it is not such a download."""
    return Store(cache_dir()).forget_unverified(Path(path))


def cached_path(
    urls: str | Sequence[str] | None = None,
    *,
    sha256: str | None = None,
    known_hash: str | None = None,
    filename: str | None = None,
    size: int | None = None,
    name_hash: bool = True,
) -> Path | None:
    """The cached file matching these, or ``None``; never touches the network or torch's cache.

    The hash is looked for as :func:`fetch` would check it (the URL's torch.hub name prefix included)."""
    url_list = _url_list(urls) if urls is not None else []
    if filename is None:
        if not url_list:
            raise OptionError("cached_path needs a URL or a filename.")
        filename = filename_from_url(url_list[0])
    expected = _expected(sha256, known_hash, url_list, name_hash and Settings.from_env().name_hash)
    return Store(cache_dir()).find(
        check_filename(filename), expected, url_list if expected is None and url_list else None, size
    )


def add_file(
    path: str | Path,
    *,
    sha256: str | None = None,
    known_hash: str | None = None,
    filename: str | None = None,
    size: int | None = None,
) -> Path:
    """Put a local file (copied by hand, e.g. onto an offline cluster) into the cache, checking its hash
    (and ``size``, when given) before it enters."""
    digest = hashes.expected(sha256, known_hash)
    return Store(cache_dir()).add_file(Path(path), digest=digest, filename=filename, size=check_size(size))


def check_size(size: object) -> int | None:
    """An expected size is a byte count; a negative or fractional one can never match, so it is refused
    before anything is looked up, downloaded or copied."""
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise OptionError(f"size must be a byte count (int >= 0) or None, got {size!r}.")
    return size


def fetch(
    urls: str | Sequence[str],
    *,
    sha256: str | None = None,
    known_hash: str | None = None,
    size: int | None = None,
    filename: str | None = None,
    progress: bool | None = None,
    entry: str | None = None,
    name_hash: bool = True,
) -> Path:
    """The path of a verified copy of the file in the cache, downloading it only when it is missing.

    ``sha256`` is the full hex digest or a prefix of at least 8 digits; a prefix is checked as a prefix.
    ``known_hash`` names the algorithm, pooch's way: ``"md5:<hex>"``, ``"sha1:<hex>"``, ``"sha256:<hex>"``
    (bare hex is sha256); give one of the two. Without either, a URL whose file name carries a torch.hub
    hash prefix (``resnet50-11ad3fa6.pth``: ``-<hex>.``, at least 8 digits) is checked against it, as
    ``torch.hub.load_state_dict_from_url(check_hash=True)`` does; ``name_hash=False`` (or
    ``ZOO_NAME_HASH=0``) turns that off. ``filename`` defaults to the URL's last path segment.
    An ``hf://ORG/REPO/FILE@REVISION`` URL is a Hugging Face Hub file (zoo/hub/hf.py): fetched from the
    Hub's resolve URL pinned to the revision's commit, verified by the sha256 the Hub states.
    ``progress=None`` shows a bar on a terminal only; ``ZOO_QUIET=1`` hides it. ``entry`` names what
    needs the file (e.g. ``"resnet50"``), only to say ``zoo download resnet50`` in an offline error.
    """
    url_list = _url_list(urls)
    settings = Settings.from_env()
    if url_list[0].startswith(hf.SCHEME):
        url_list, sha256, size, filename = _hub_source(url_list, sha256, known_hash, size, filename, settings)
    expected = _expected(sha256, known_hash, url_list, name_hash and settings.name_hash)
    name = check_filename(filename) if filename is not None else filename_from_url(url_list[0])
    check_size(size)
    store = Store(settings.home)
    lookup_urls = None if expected is not None else url_list

    hit = _cached(store, name, expected, lookup_urls, size)
    if hit is not None:
        return hit
    store.ensure()
    hit = _from_torch_hub(store, name, expected, size)
    if hit is not None:
        return hit
    show = wants_bar(progress)
    return _fetch_missing(store, settings, url_list, name, expected, size, show, entry)


def _fetch_missing(
    store: Store,
    settings: Settings,
    url_list: list[str],
    name: str,
    expected: Digest | None,
    size: int | None,
    show: bool,
    entry: str | None,
) -> Path:
    """Download a file the cache lacks, once across processes (the lock), offline rules applied."""
    sources, refused = all_sources(
        url_list,
        name,
        expected.sha256 if expected else None,
        mirrors=settings.mirrors,
        allow_http=settings.allow_http,
    )
    if settings.offline:
        sources = [s for s in sources if scheme(s) == "file"]
        if not sources:
            raise OfflineError(offline_message(store, url_list, name, expected, entry))

    key = download_key(name, expected, url_list[0])
    lookup_urls = None if expected is not None else url_list
    with _lock(store, key, settings, name):
        hit = _cached(store, name, expected, lookup_urls, size)  # another process may have finished it
        if hit is not None:
            return hit
        if size is not None:
            check_free_space(store.partial, size, name)
        try:
            return _download(store, key, sources, refused, name, expected, size, settings, show, url_list)
        except OfflineError:
            raise
        except DownloadError as exc:
            if settings.offline and not isinstance(exc, NoSpaceError):
                raise OfflineError(
                    f"{offline_message(store, url_list, name, expected, entry)}\n{exc}"
                ) from None
            raise


def fetch_spec(spec: dict, *, entry: str | None = None, progress: bool | None = None) -> Path:
    """``fetch`` for one file as entries describe it in their metadata: a dict with ``url`` and optional
    ``sha256`` (or ``md5`` / ``sha1`` / ``known_hash``, when upstream publishes only those), ``size``,
    ``filename``, ``mirrors`` (a list of URLs tried after ``url``) and ``alternates``
    (specs of *other* files with the same content, e.g. timm's ``pytorch_model.bin`` beside its
    ``model.safetensors``, tried in order when this one cannot be had; the first error is raised)."""
    if not isinstance(spec, dict) or not spec.get("url"):
        raise OptionError(f"a file spec needs at least a 'url'; got {spec!r}.")
    first: DownloadError | None = None
    for one in (spec, *(spec.get("alternates") or ())):
        try:
            return fetch(
                [one["url"], *(one.get("mirrors") or ())],
                sha256=one.get("sha256"),
                known_hash=None if one.get("sha256") else spec_hash(one),
                size=one.get("size"),
                filename=one.get("filename"),
                progress=progress,
                entry=entry,
            )
        except DownloadError as exc:
            first = first or exc
    assert first is not None
    raise first


def spec_hash(spec: dict) -> str | None:
    """A spec's expected hash other than sha256, algorithm-tagged (``known_hash`` wins)."""
    if spec.get("known_hash"):
        return spec["known_hash"]
    for algorithm in ("sha1", "md5"):
        if spec.get(algorithm):
            return f"{algorithm}:{spec[algorithm]}"
    return None


def _expected(sha256: str | None, known_hash: str | None, urls: list[str], from_name: bool) -> Digest | None:
    digest = hashes.expected(sha256, known_hash)
    if digest is None and from_name and urls:
        with contextlib.suppress(ValueError):
            digest = hashes.name_hash(filename_from_url(urls[0]))
    return digest


def _hub_source(
    url_list: list[str],
    sha256: str | None,
    known_hash: str | None,
    size: int | None,
    filename: str | None,
    settings: Settings,
) -> tuple[list[str], str | None, int | None, str]:
    """An ``hf://`` file as the Hub's resolve URL pinned to the revision's commit (and the revision's own
    URL after it, so that an offline lookup by the URL asked for finds the file), with the sha256 and size
    the Hub states, unless the caller gave a hash."""
    file = hf.HubFile.parse(url_list[0])
    name = file.filename.rsplit("/", 1)[-1] if filename is None else filename  # "" is refused, not ignored
    rest = url_list[1:]
    if settings.offline:
        return [file.url(), *rest], sha256, size, name
    facts = hf.file_facts(file, timeout=(settings.connect_timeout, settings.read_timeout))
    pinned = [file.url(facts.commit)] if facts.commit and facts.commit != file.revision else []
    given = sha256 is not None or known_hash is not None
    return [*pinned, file.url(), *rest], sha256 if given else facts.sha256, size or facts.size, name


def _url_list(urls: str | Sequence[str]) -> list[str]:
    if isinstance(urls, str):
        url_list = [urls]
    elif isinstance(urls, Sequence):
        url_list = list(urls)
    else:  # None, a number, a set (no order to try mirrors in)
        raise OptionError(f"expected a URL or a list of URLs (mirrors, tried in order), got {urls!r}.")
    if not url_list or not all(isinstance(u, str) and u.strip() for u in url_list):
        raise OptionError(f"expected a URL or a non-empty list of URLs, got {urls!r}.")
    url_list = [u.strip() for u in url_list]
    for url in url_list:
        try:
            urlsplit(url).port  # noqa: B018 - parses the host and port, which urlsplit alone does not check
        except ValueError as exc:  # 'http://[bad' (Invalid IPv6 URL), 'http://host:99999' (port out of range)
            raise OptionError(f"{url!r} is not a well-formed URL ({exc}); check the brackets and the port.") from None
    return url_list


def _cached(
    store: Store, name: str, expected: Digest | None, urls: list[str] | None, size: int | None
) -> Path | None:
    return store.find(name, expected, urls, size)


def _from_torch_hub(store: Store, name: str, expected: Digest | None, size: int | None) -> Path | None:
    """Reuse ``$TORCH_HOME/hub/checkpoints/<name>`` when its hash matches (never without a hash)."""
    if expected is None:
        return None
    candidate = torch_hub_checkpoints() / name
    try:
        if not candidate.is_file() or (size is not None and candidate.stat().st_size != size):
            return None
        return store.add_file(
            candidate, digest=expected, filename=name, url=candidate.resolve().as_uri(), link=True
        )
    except (IntegrityError, OSError):
        return None


@contextlib.contextmanager
def _lock(store: Store, key: str, settings: Settings, name: str) -> Iterator[None]:
    """One download per file across processes; ``ZOO_LOCKS=0`` turns it off (correctness stays)."""
    if not settings.locks:
        yield
        return
    import filelock

    lock = filelock.FileLock(str(store.locks / f"{key}.lock"))
    try:
        lock.acquire(timeout=LOCK_NOTICE_AFTER)
    except filelock.Timeout:
        if not settings.quiet:
            print(f"zoo: waiting for another process downloading {name} ...", file=sys.stderr)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _download(
    store: Store,
    key: str,
    sources: list[str],
    refused: list[tuple[str, str]],
    name: str,
    expected: Digest | None,
    size: int | None,
    settings: Settings,
    show: bool,
    requested: list[str],
) -> Path:
    import requests

    failures: list[SourceError] = [
        SourceError(url, "refused", f"{url}: skipped, {why}") for url, why in refused
    ]
    algorithm = expected.algorithm if expected is not None else None
    with requests.Session() as session:
        session.headers["User-Agent"] = f"{DISTRIBUTION}/{__version__} (+python-requests)"  # the name on PyPI
        for url in sources:
            for fresh in (False, True):
                part = (
                    Partial.new(store, key, url, algorithm)
                    if fresh
                    else Partial.claim(store, key, url, algorithm, locked=settings.locks)
                )
                try:
                    download(session, url, part, size=size, settings=settings, show=show, desc=name)
                    path = part.finish()
                    problem = _check(part, size, expected)
                    if problem is None:
                        part.forget_sidecar()
                        other = (
                            {algorithm: part.hexdigest(algorithm)}
                            if algorithm not in (None, "sha256")
                            else {}
                        )
                        return store.commit(path, part.sha256, name, url=url, requested=requested, hashes=other,
                                            verified=algorithm)  # fmt: skip
                    part.discard()
                    if part.resumed_from and not fresh:
                        continue  # the older bytes may be from another version: once more from zero
                    failures.append(SourceError(url, "integrity", f"{url}: {problem}"))
                except SourceError as exc:
                    (part.discard if exc.reason in ("integrity", "not_found") else part.park)()
                    failures.append(exc)
                except BaseException:
                    part.park()
                    raise
                break
    raise _failure(name, expected, failures)


def _check(part: Partial, size: int | None, expected: Digest | None) -> str | None:
    if size is not None and part.size != size:
        return f"got {part.size} bytes, expected {size} (the file upstream may have changed)"
    if expected is None:
        return None
    actual = part.hexdigest(expected.algorithm)
    if expected.matches(actual):
        return None
    advice = (
        "if those digits are not a hash, pass the right sha256=, or name_hash=False (ZOO_NAME_HASH=0)"
        if expected.from_name
        else "the file upstream may have changed, or a mirror serves another version"
    )
    return f"{expected.describe()} mismatch: expected {expected.hex}, got {actual} ({advice})"


_HINTS = {
    "connection": "Connection failures: is this machine online? Behind a proxy, set HTTPS_PROXY. On a machine "
    "without network, see 'ZOO_OFFLINE' and 'zoo cache add' in the README.",
    "timeout": "Timeouts: raise ZOO_CONNECT_TIMEOUT / ZOO_READ_TIMEOUT on a slow link.",
    "proxy": "Proxy errors: check HTTPS_PROXY, HTTP_PROXY and NO_PROXY.",
    "ssl": "SSL errors: a proxy that re-signs TLS needs its CA in REQUESTS_CA_BUNDLE; check the clock too.",
    "not_found": "Not found: the file may have moved; ZOO_MIRRORS can add a mirror.",
    "denied": "Access denied (401/403): a private mirror needs credentials, e.g. in ~/.netrc.",
}


def _failure(name: str, expected: Digest | None, failures: list[SourceError]) -> DownloadError:
    what = f"{name} ({expected.algorithm} {expected.hex})" if expected else name
    lines = [f"could not download {what} from any of its {len(failures)} source(s):"]
    lines += [f"  - {exc}" for exc in failures]
    reasons = {exc.reason for exc in failures}
    lines += [_HINTS[r] for r in _HINTS if r in reasons]
    cls = IntegrityError if reasons == {"integrity"} else DownloadError
    error = cls("\n".join(lines))
    error.failures = failures  # type: ignore[attr-defined]
    return error


def offline_message(
    store: Store, urls: list[str], name: str, expected: Digest | None, entry: str | None
) -> str:
    hash_opt = ""
    if expected is not None and not expected.from_name:
        hash_opt = f" --sha256 {expected.hex}" if expected.sha256 else f" --hash {expected}"
    full = expected is not None and expected.sha256 is not None and not expected.is_prefix
    where = store.blobs / (expected.hex if full else "<sha256>") / name
    get = f"zoo download {entry}" if entry else f"zoo cache add {urls[0]}{hash_opt}"
    torch_hint = (
        f"place it at {torch_hub_checkpoints() / name}, or " if name.endswith((".pth", ".pt")) else ""
    )
    return (
        f"ZOO_OFFLINE=1 and {name}{f' ({expected.algorithm} {expected.hex})' if expected else ''} is not in the "
        "zoo cache "
        f"({store.root}). It belongs at {where}. Either:\n"
        f"  * on a machine with network run '{get}', then copy its cache folder ('zoo cache dir') over "
        f"this machine's ZOO_HOME ({store.root});\n"
        f"  * or copy the file itself here (from {urls[0]}) and run 'zoo cache add /path/to/{name}{hash_opt}';\n"
        f"  * or {torch_hint}put it in a shared folder named by ZOO_MIRRORS=file:///that/folder."
    )
