"""The download cache: verified, resumable, mirrored, locked and offline-capable.

``zoo.hub.fetch(url, sha256=...)`` returns the path of a whole, hash-checked file in the cache
(``$ZOO_HOME``), downloading it only when it is missing. See the README section "The download cache" for
the layout, the environment variables and the offline workflow. Importing this module imports neither
torch nor requests.
"""

from zoo.hub.fetch import add_file, cache_dir, cached_path, fetch, fetch_spec, forget_unverified
from zoo.hub.store import CachedFile, Store, content_sha256

__all__ = ["CachedFile", "Store", "add_file", "cache_dir", "cached_path", "content_sha256", "fetch", "fetch_spec",
           "forget_unverified"]
