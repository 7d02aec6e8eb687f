"""One source to one partial file: HTTP with resume, retries, backoff and honest errors.

Transient failures (connection errors, read timeouts, HTTP 408/429/5xx, a connection dropped mid-file)
are retried with exponential backoff and jitter, honouring ``Retry-After``; a dropped connection that
made progress resumes at once with ``Range``/``If-Range``. Failures that retrying cannot fix (404/410,
other 4xx, SSL and proxy errors, an https->http redirect) raise :class:`SourceError` so the caller moves to
the next source at once.
"""

from __future__ import annotations

import email.utils
import random
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from zoo.errors import DownloadError
from zoo.hub.config import Settings
from zoo.hub.partial import Partial
from zoo.utils.progress import progress

CHUNK = 1 << 20
MAX_REDIRECTS = 10
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0
MAX_RETRY_AFTER = 300.0
_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)\Z")
_UNSATISFIED_RANGE = re.compile(r"^bytes\s+\*/(\d+)\Z")

_sleep = time.sleep  # tests replace this to record delays


def _progress_bar(**kwargs):  # the one seam tests wrap to see which bars were asked for
    return progress(**kwargs)


class SourceError(DownloadError):
    """This source cannot give the file; ``reason`` sorts failures for the final message."""

    def __init__(self, url: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.url, self.reason = url, reason


class _Retry(Exception):
    def __init__(
        self, reason: str, message: str, *, retry_after: float | None = None, progressed: bool = False
    ):
        super().__init__(message)
        self.reason, self.retry_after, self.progressed = reason, retry_after, progressed


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def check_free_space(folder: Path, needed: int, what: str) -> None:
    """Fail before downloading rather than after filling the disk."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if needed > free:
        raise DownloadError(
            f"{what} needs {human(needed)} but only {human(free)} is free on the disk holding {folder}. "
            "Free some space ('zoo cache prune', 'zoo cache remove NAME') or set ZOO_HOME to a bigger disk."
        )


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return min(max(0.0, (when - datetime.now(timezone.utc)).total_seconds()), MAX_RETRY_AFTER)


def backoff(failures: int) -> float:
    """1 s, 2 s, 4 s ... capped at 60 s, each stretched by up to 25 % so clients do not retry in step."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1)) * random.uniform(1.0, 1.25)


def download(
    session, url: str, part: Partial, *, size: int | None, settings: Settings, show: bool, desc: str
) -> None:
    """Make ``part`` hold the whole file served at ``url`` (not yet hash-checked)."""
    if urlsplit(url).scheme.lower() == "file":
        _copy_local(url, part, size=size)
        return
    failures = 0
    while True:
        try:
            _attempt(session, url, part, size=size, settings=settings, show=show, desc=desc)
            return
        except _Retry as retry:
            failures = 0 if retry.progressed else failures + 1
            if failures > settings.max_retries:
                raise SourceError(
                    url,
                    retry.reason,
                    f"{retry} (gave up after {settings.max_retries} retries; ZOO_MAX_RETRIES sets how many)",
                ) from None
            if failures:
                _sleep(retry.retry_after if retry.retry_after is not None else backoff(failures))


def _copy_local(url: str, part: Partial, *, size: int | None) -> None:
    path = Path(unquote(urlsplit(url).path))
    if not path.is_file():
        raise SourceError(url, "not_found", f"{url}: no such file")
    if part.size:
        part.restart()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            part.write(chunk)
            if size is not None and part.size > size:
                raise SourceError(url, "integrity", f"{url}: larger than the expected {size} bytes")


def _open(session, url: str, headers: dict[str, str], timeout: tuple[float, float]):
    """GET following redirects by hand, so an https->http downgrade is refused, never followed."""
    current = url
    for _ in range(MAX_REDIRECTS):
        resp = session.get(current, headers=headers, stream=True, timeout=timeout, allow_redirects=False)
        if not resp.is_redirect:
            return resp
        target = urljoin(current, resp.headers["location"])
        resp.close()
        if urlsplit(current).scheme.lower() == "https" and urlsplit(target).scheme.lower() != "https":
            raise SourceError(
                url,
                "insecure_redirect",
                f"{url}: refused a redirect from https to {target} (no downgrade to plain http)",
            )
        current = target
    raise SourceError(url, "http", f"{url}: more than {MAX_REDIRECTS} redirects")


def _attempt(
    session, url: str, part: Partial, *, size: int | None, settings: Settings, show: bool, desc: str
) -> None:
    """One request: classify the answer, then stream its body into ``part``."""
    offset = part.size
    resp = _request(session, url, _range_headers(part), settings)
    with resp:
        if _already_whole(resp, url, part, offset):
            return
        _check_status(resp, url)
        total = _body_total(resp, url, part, offset)
        if part.size == 0:
            part.begin(resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
        if size is not None and total is not None and total != size:
            raise SourceError(
                url,
                "integrity",
                f"{url}: the server has {total} bytes, expected {size} (the file upstream may have changed)",
            )
        if total is not None:
            check_free_space(part.path.parent, total - part.size, desc)
        _stream(resp, url, part, offset=offset, total=total, size=size, show=show, desc=desc)


def _range_headers(part: Partial) -> dict[str, str]:
    headers = {"Accept-Encoding": "identity"}
    if part.size:
        headers["Range"] = f"bytes={part.size}-"
        if part.validator:
            headers["If-Range"] = part.validator
    return headers


def _request(session, url: str, headers: dict[str, str], settings: Settings):
    """The response to a GET, or the failure sorted: :class:`_Retry` if waiting may help, else SourceError."""
    import requests

    try:
        return _open(session, url, headers, (settings.connect_timeout, settings.read_timeout))
    except requests.exceptions.RequestException as exc:
        raise _request_failure(exc, url, settings) from None


def _request_failure(exc: BaseException, url: str, settings: Settings) -> Exception:
    import requests

    host = urlsplit(url).netloc
    if isinstance(exc, requests.exceptions.ProxyError):
        return SourceError(
            url, "proxy", f"{url}: proxy error ({_short(exc)}); check HTTPS_PROXY / HTTP_PROXY / NO_PROXY"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return SourceError(
            url,
            "ssl",
            f"{url}: SSL/TLS error ({_short(exc)}); if a proxy re-signs traffic, set "
            "REQUESTS_CA_BUNDLE to its CA certificate",
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _Retry(
            "connection",
            f"{url}: connecting to {host} timed out after {settings.connect_timeout:g} s (ZOO_CONNECT_TIMEOUT)",
        )
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return _Retry("timeout", f"{url}: no answer within {settings.read_timeout:g} s (ZOO_READ_TIMEOUT)")
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _is_name_resolution(exc):  # retrying rarely helps; mirrors might
            return SourceError(
                url,
                "connection",
                f"{url}: cannot resolve host {urlsplit(url).hostname!r} (DNS); offline, or a typo in the URL?",
            )
        return _Retry("connection", f"{url}: cannot connect to {host} ({_short(exc)})")
    return SourceError(url, "http", f"{url}: {_short(exc)}")


def _already_whole(resp, url: str, part: Partial, offset: int) -> bool:
    """A 416 to a resumed request: True when we already hold every byte (the hash check decides)."""
    if resp.status_code != 416:
        return False
    match = _UNSATISFIED_RANGE.match(resp.headers.get("Content-Range", ""))
    if offset and match and int(match.group(1)) == offset:
        return True
    part.restart()
    raise _Retry("http", f"{url}: HTTP 416 for a resumed download; starting again", progressed=bool(offset))


def _check_status(resp, url: str) -> None:
    """Anything but 200/206 raises: 404/410 and other 4xx move on to the next source, 408/429/5xx retry."""
    status = resp.status_code
    if status in (200, 206):
        return
    line = f"{url}: HTTP {status} {resp.reason or ''}".rstrip()
    if status in (404, 410):
        raise SourceError(url, "not_found", f"{url}: HTTP {status} {resp.reason or 'Not Found'}")
    if status in (408, 429) or status >= 500:
        raise _Retry("http", line, retry_after=retry_after_seconds(resp.headers.get("Retry-After")))
    raise SourceError(url, "denied" if status in (401, 403) else "http", line)


def _body_total(resp, url: str, part: Partial, offset: int) -> int | None:
    """The whole file's size as the response states it; restarts ``part`` when the body starts at 0."""
    if resp.status_code == 206:
        match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            part.restart()
            raise _Retry(
                "http", f"{url}: server answered a different range; starting again", progressed=bool(offset)
            )
        return int(match.group(3)) if match.group(3) != "*" else None
    if offset:
        part.restart()  # Range ignored, or If-Range said the file changed: whole file follows
    length = resp.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _stream(
    resp, url: str, part: Partial, *, offset: int, total: int | None, size: int | None, show: bool, desc: str
) -> None:
    """The body into ``part``; a dropped or short connection is a :class:`_Retry` that resumes."""
    import requests
    import urllib3

    bar = _progress_bar(
        total=total if total is not None else size,
        initial=part.size,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
        show=show,
    )
    try:
        for chunk in _chunks(resp):
            part.write(chunk)
            bar.update(len(chunk))
            if size is not None and part.size > size:
                raise SourceError(url, "integrity", f"{url}: sent more than the expected {size} bytes")
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
        kind = "timeout" if "timed out" in str(exc).lower() else "connection"
        raise _Retry(
            kind,
            f"{url}: connection lost after {part.size} bytes ({_short(exc)})",
            progressed=part.size > offset,  # beyond where this attempt began, not just since a restart
        ) from None
    finally:
        bar.close()
    if total is not None and part.size < total:
        raise _Retry(
            "connection", f"{url}: connection closed after {part.size} of {total} bytes", progressed=part.size > offset
        )


def _chunks(resp):
    """Body bytes as they arrive (``read1``), so a dropped connection loses none already received."""
    read1 = getattr(resp.raw, "read1", None)
    if read1 is None:  # urllib3 < 2.3
        yield from resp.iter_content(CHUNK)
        return
    while data := read1(CHUNK, decode_content=True):  # as iter_content would
        yield data


def _is_name_resolution(exc: BaseException) -> bool:
    import urllib3

    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NameResolutionError)


def _short(exc: BaseException) -> str:
    text = str(exc)
    match = re.search(r"\(Caused by (\w+)\((.*)\)\)", text)
    return f"{match.group(1)}: {match.group(2)}" if match else text[:300]
