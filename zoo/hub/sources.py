"""Where a file may come from: the caller's URLs, then ``ZOO_MIRRORS``, then the mirror hook.

``ZOO_MIRRORS`` is a list separated by commas, spaces or newlines. Each item is either

* a base URL, to which the file name is appended: ``https://mirror.example.org/zoo`` serves
  ``https://mirror.example.org/zoo/resnet50-11ad3fa6.pth``; ``file:///shared/zoo-files`` reads
  ``/shared/zoo-files/resnet50-11ad3fa6.pth`` (a shared folder on an offline cluster), or
* a prefix rewrite ``FROM=TO``: ``https://download.pytorch.org/models/=https://mirror.local/torch/``
  turns every URL starting with ``FROM`` into one starting with ``TO``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from zoo.errors import OptionError, ZooError

_SPLIT = re.compile(r"[\s,]+")
_URL = re.compile(r"^(https?|file)://", re.IGNORECASE)


def parse_mirrors(spec: str) -> list[tuple[str, str | None]]:
    """``ZOO_MIRRORS`` -> ``[(base, None) | (from_prefix, to_prefix)]``; a malformed item raises."""
    items: list[tuple[str, str | None]] = []
    for item in _SPLIT.split(spec.strip()):
        if not item:
            continue
        head, sep, tail = item.partition("=")
        if sep and _URL.match(head) and _URL.match(tail):
            items.append((head, tail))
        elif _URL.match(item):
            items.append((item, None))
        else:
            raise ZooError(
                f"ZOO_MIRRORS item {item!r} is neither a base URL (https://host/path, file:///dir) nor a "
                "rewrite FROM=TO of two URL prefixes."
            )
    return items


def mirror_urls(urls: Sequence[str], filename: str, spec: str) -> list[str]:
    out: list[str] = []
    for head, tail in parse_mirrors(spec):
        if tail is None:
            out.append(f"{head.rstrip('/')}/{quote(filename)}")
        else:
            out.extend(tail + url[len(head) :] for url in urls if url.startswith(head))
    return out


def plugin_mirrors(urls: Sequence[str], filename: str, sha256: str | None) -> list[str]:
    from zoo.plugins import get_plugin_manager

    pm = get_plugin_manager()
    out: list[str] = []
    for url in urls:  # each plugin on its own: one that raises (or returns no URLs) is reported once, skipped
        found = pm.call_each("zoo_download_mirrors", _url_list, url=url, filename=filename, sha256=sha256)
        out.extend(u for _, mirrors in found for u in mirrors)
    return out


def _url_list(result: object) -> list[str]:
    """What a ``zoo_download_mirrors`` implementation returned, as URLs: a string or a sequence of them."""
    items = [result] if isinstance(result, str) else result
    if not isinstance(items, (list, tuple)) or not all(isinstance(u, str) for u in items):
        # invariant: never escapes: call_each reports it as a PluginWarning (a PluginError in strict mode)
        raise TypeError(f"it returned {result!r}; return a list of URL strings")
    return list(items)


def scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def all_sources(
    urls: Sequence[str], filename: str, sha256: str | None, *, mirrors: str, allow_http: bool
) -> tuple[list[str], list[tuple[str, str]]]:
    """Ordered, de-duplicated sources, and the ones refused (with why).

    An ``http://`` mirror of an ``https://`` file is refused (no downgrade) unless ``ZOO_ALLOW_HTTP=1``.
    """
    for url in urls:
        if scheme(url) not in ("http", "https", "file"):
            raise OptionError(
                f"cannot download {url!r}: only http://, https:// and file:// URLs are supported."
            )
    secure = any(scheme(u) == "https" for u in urls)
    candidates = [*urls, *mirror_urls(urls, filename, mirrors), *plugin_mirrors(urls, filename, sha256)]
    sources: list[str] = []
    refused: list[tuple[str, str]] = []
    for url in dict.fromkeys(candidates):
        if url in urls:
            sources.append(url)
        elif scheme(url) not in ("http", "https", "file"):
            refused.append((url, "unsupported URL scheme"))
        elif secure and scheme(url) == "http" and not allow_http:
            refused.append((url, "plain http mirror of an https file (set ZOO_ALLOW_HTTP=1 to allow)"))
        else:
            sources.append(url)
    return sources, refused
