"""``zoo cache ...`` and ``zoo download NAME``: the command-line face of the download cache."""

from __future__ import annotations

import argparse
import json
import sys
import time

from zoo.atomic import remove_folder
from zoo.console import print_table
from zoo.errors import DownloadError, UnknownNameError, ZooError
from zoo.hub import hashes, maintenance
from zoo.hub.fetch import add_file, cache_dir, check_size, fetch, fetch_spec
from zoo.hub.store import Store, check_filename, is_hex
from zoo.hub.transfer import human
from zoo.metadata import ApplicationMeta, EntryMeta, FileSpec
from zoo.registry import natural_key


def register(subparsers: argparse._SubParsersAction) -> None:
    cache = subparsers.add_parser("cache", help="inspect and manage the download cache")
    sub = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)

    p = sub.add_parser("dir", help="print the cache folder (ZOO_HOME)")
    p.set_defaults(func=cmd_dir)

    p = sub.add_parser("list", help="list cached files: name, size, sha256, source")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("verify", help="re-hash cached files; exit status 1 if any is damaged")
    p.add_argument("names", nargs="*", metavar="NAME", help="file names or sha256 prefixes (default: all)")
    p.add_argument(
        "--fix", action="store_true", help="remove damaged files (they download again when needed)"
    )
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("remove", help="remove cached files by name or sha256 prefix")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("prune", help="remove partial downloads, stale temp files, unused locks and orphans")
    p.add_argument("--dry-run", action="store_true", help="only show what would be removed")
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("add", help="put a file in the cache: a URL to download, or a local file to import")
    p.add_argument("source", help="https://... URL, or the path of a file copied by hand")
    p.add_argument(
        "--sha256",
        "--hash",
        dest="hash",
        type=_hash,
        help="expected hash: sha256 hex (full, or a prefix of at least 8 digits), or md5:HEX / sha1:HEX",
    )
    p.add_argument("--filename", type=_cache_name, help="name in the cache (default: the URL's or file's name)")
    p.add_argument("--size", type=_byte_count, help="expected size in bytes")
    p.add_argument(
        "--dataset",
        help="import a folder holding an IDX dataset (mnist, fashion_mnist; torchvision's layout, .gz or not)",
    )
    p.set_defaults(func=cmd_add)

    p = subparsers.add_parser("download", help="download the files of a model or dataset into the cache")
    p.add_argument("name", help="an application or dataset name, e.g. resnet50 or mnist")
    p.add_argument(
        "--weights", help="weights variant of an application (default: its default; 'all': every one)"
    )
    p.add_argument("--kind", help="look only in this kind (default: applications, then datasets)")
    p.set_defaults(func=cmd_download)


def _byte_count(text: str) -> int:
    """``--size``'s value, refused as a usage error (before anything is fetched or copied) unless it is a
    byte count, by the rule ``fetch(size=...)`` applies."""
    try:
        return check_size(int(text))  # type: ignore[return-value]  # an int in, the same int out
    except ValueError:  # not a number, or (OptionError) a negative one
        raise argparse.ArgumentTypeError(f"invalid byte count {text!r}: give a whole number >= 0") from None


def _hash(text: str) -> str:
    """``--sha256``'s value, checked when the line is read by the rule ``fetch(known_hash=...)`` applies,
    so the message names the flag the user typed."""
    try:
        hashes.parse(text, argument="--sha256")
    except ZooError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("--sha256=", "", 1)) from None
    return text


def _cache_name(text: str) -> str:
    try:
        return check_filename(text)
    except ZooError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_dir(args: argparse.Namespace) -> int:
    print(cache_dir())
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    store = Store(cache_dir())
    entries = sorted(store.entries(), key=lambda e: (natural_key(e.filename), e.sha256))
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
        return 0
    if not entries:
        print(f"the cache at {store.root} is empty")
    else:
        rows = [
            (
                e.filename,
                human(e.size),
                e.sha256[:12],
                time.strftime("%Y-%m-%d", time.localtime(e.added)),
                e.url or "",
            )
            for e in entries
        ]
        print_table(("name", "size", "sha256", "added", "source"), rows)
        total = sum(e.size for e in {e.sha256: e for e in entries}.values())
        print(f"{len(entries)} file(s), {human(total)} in {store.root}")
    parts = list(store.partial.glob("*.part")) if store.partial.is_dir() else []
    if parts:
        size = sum(maintenance.size_of(p) for p in parts)
        print(
            f"{len(parts)} partial download(s), {human(size)}: they resume on the next download; "
            "'zoo cache prune' removes them"
        )
    return 0


def _select(store: Store, names: list[str]):
    chosen = []
    for name in names:
        found = store.match(name)
        if not found:
            raise ZooError(_no_match(store, name))
        chosen.extend(found)
    return list({e.path: e for e in chosen}.values())


def _no_match(store: Store, name: str) -> str:
    """Why ``name`` selects nothing; a hex name too short to be a prefix says so, with the prefix to type."""
    lowered = name.lower()
    if len(lowered) < hashes.MIN_PREFIX and is_hex(lowered):
        hits = sorted({e.sha256[:hashes.MIN_PREFIX] for e in store.entries() if e.sha256.startswith(lowered)})
        hint = f" (cached ones starting so: {', '.join(hits[:3])}{', ...' if len(hits) > 3 else ''})" if hits else ""
        return (
            f"no cached file is named {name!r}, and a sha256 prefix needs at least {hashes.MIN_PREFIX} digits, "
            f"not {len(lowered)}{hint}; see 'zoo cache list'."
        )
    return f"no cached file named {name!r} (nor with that sha256 prefix); see 'zoo cache list'."


def cmd_verify(args: argparse.Namespace) -> int:
    store = Store(cache_dir())
    entries = _select(store, args.names) if args.names else None
    bad = 0
    checked = 0
    for verdict in maintenance.verify(store, entries):
        checked += 1
        e = verdict.entry
        if verdict.ok:
            print(f"ok       {e.filename}  {e.sha256[:12]}")
            continue
        bad += 1
        print(f"DAMAGED  {e.filename}  expected sha256 {e.sha256}, found {verdict.actual}")
        if args.fix:
            store.remove(e)
            print(f"         removed {e.path}")
    if not args.names:  # names select downloads; the datasets' derived arrays are checked with everything
        more, damaged = _verify_datasets(store, fix=args.fix)
        checked, bad = checked + more, bad + damaged
    print(
        f"{checked} checked, {bad} damaged"
        + ("" if not bad or args.fix else "; 'zoo cache verify --fix' removes them so they download (or are rebuilt) again")
        + ("; all removed (they download again, or are rebuilt, when needed)" if bad and args.fix else "")
    )
    return 1 if bad and not args.fix else 0  # after --fix the cache holds no damaged file


def _verify_datasets(store: Store, *, fix: bool) -> tuple[int, int]:
    """Re-hash the arrays under ``datasets/`` against the digests recorded when they were written; with
    ``fix``, a folder holding a damaged one is removed whole, and the next load builds it again."""
    from zoo.datasets import cache

    checked = bad = 0
    for folder in cache.folders():
        where = folder.relative_to(store.root) if folder.is_relative_to(store.root) else folder
        found = dict(cache.problems(folder, rehash=True))
        for name in cache.recorded(folder) or found:  # no digests recorded: the marker is the one problem
            checked += 1
            if name in found:
                bad += 1
                print(f"DAMAGED  {where / name}  {found[name]}")
            else:
                print(f"ok       {where / name}")
        if found and fix:
            remove_folder(folder)  # whole, never half-deleted: the next load builds it again
            print(f"         removed {where} (built again on the next load, or by importing its folder again)")
    return checked, bad


def cmd_remove(args: argparse.Namespace) -> int:
    store = Store(cache_dir())
    freed = 0
    for entry in _select(store, args.names):
        freed += store.remove(entry)
        print(f"removed {entry.filename} ({entry.sha256[:12]})")
    print(f"freed {human(freed)}")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    store = Store(cache_dir())
    found = maintenance.prune_candidates(store)
    freed = 0
    for path, why in found:
        freed += maintenance.size_of(path)
        if not args.dry_run:
            maintenance.remove_path(path)
        print(f"{'would remove' if args.dry_run else 'removed'} {path.relative_to(store.root)}  ({why})")
    print(f"{len(found)} item(s), {human(freed)} {'would be ' if args.dry_run else ''}freed")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    source = args.source
    if args.dataset:
        return _add_dataset(args)
    if "://" in source:
        path = fetch(source, known_hash=args.hash, size=args.size, filename=args.filename)
    else:
        if Path(source).is_dir():
            from zoo.datasets.local import idx_datasets

            raise ZooError(
                f"{source} is a folder: to import the dataset it holds, add --dataset NAME "
                f"({' or '.join(idx_datasets())}); to add one file, give that file's path."
            )
        if not Path(source).is_file():
            raise ZooError(f"{source} is neither a URL nor an existing file.")
        path = add_file(source, known_hash=args.hash, filename=args.filename, size=args.size)
    print(path)
    return 0


def _add_dataset(args: argparse.Namespace) -> int:
    """``zoo cache add DIR --dataset mnist``: verify the folder's files and cache the parsed arrays."""
    import zoo.datasets

    extra = [f"--{k}" for k in ("hash", "filename", "size") if getattr(args, k) is not None]
    if extra:
        raise ZooError(
            f"{', '.join(extra)} do not apply with --dataset: each file is checked by its known digest."
        )
    for file in zoo.datasets.import_folder(args.dataset, args.source):
        print(f"{file.role}: {file.path} (matches the {file.verified_by})")
    print(f"{args.dataset} is in the cache; zoo.datasets.load({args.dataset!r}) reads it from there")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from zoo.plugins import get_registry

    registry = get_registry()
    kinds = [args.kind] if args.kind else ["applications", "datasets"]
    entry, misses = None, []
    for kind in kinds:
        try:
            entry = registry.lookup(kind, args.name)
            break
        except UnknownNameError as exc:
            misses.append(str(exc))
    if entry is None:
        raise UnknownNameError("\n".join(misses))  # one line per kind searched
    files = entry_files(entry.name, entry.kind, entry.meta, args.weights)
    if not files:
        why = "its weights ship inside its plugin package" if getattr(entry.meta, "weights", None) else (
            "it lists no files")
        print(f"{entry.kind} {entry.name!r}: nothing to download ({why}).")
        return 0
    failed: list[tuple[str, DownloadError]] = []
    for label, spec in files:
        try:
            path = fetch_spec(spec.fetch_spec(), entry=entry.name)
        except DownloadError as exc:
            failed.append((label, exc))
            print(f"{label}: FAILED", file=sys.stderr)
            continue
        print(f"{label}: {path} ({human(path.stat().st_size)})")
    if len(failed) == 1:
        raise failed[0][1]
    if failed:
        labels = ", ".join(label for label, _ in failed)
        raise type(failed[0][1])(
            f"{len(failed)} of {len(files)} files failed ({labels}). The first: {failed[0][1]}"
        )
    return 0


def entry_files(name: str, kind: str, meta: EntryMeta, weights: str | None) -> list[tuple[str, FileSpec]]:
    """The files an entry's metadata lists that can be downloaded: a variant of an application's
    ``weights`` (``"all"``: every one), or a dataset's ``files``. Weights without a URL ship inside their
    plugin and are left out."""
    variants = getattr(meta, "weights", None)
    if weights is not None and not variants:
        raise ZooError(f"{kind} {name!r} has no weights variants; drop --weights.")
    if variants:
        assert isinstance(meta, ApplicationMeta)
        if weights == "all":
            chosen = [(tag, variants[tag]) for tag in variants]
        else:
            tag = meta.variant(weights)
            if tag is None:
                raise ZooError(f"{name} has no weights {weights!r}; it has: {', '.join(variants)} (or 'all').")
            chosen = [(tag, variants[tag])]
        return [(f"{name} {tag}", spec) for tag, spec in chosen if spec.url]
    return [(f"{name} {spec.label}", spec) for spec in getattr(meta, "files", ())]
