"""What a file that is not usable weights actually is, said in words (for :class:`WeightsFileError`).

``torch.load``'s own errors are of no help to someone who downloaded an HTML error page (``KeyError: 101``,
``EOFError``, a message suggesting ``weights_only=False``, which would run the file's code). This module
looks at the bytes instead: empty, text (HTML, JSON, XML), a truncated zip, a zip that torch did not write,
a plain pickle, a pickle that would call a function (refused, never run), or a whole pickled
``nn.Module``. Nothing here unpickles anything: pickles are read opcode by opcode with ``pickletools``.
"""

from __future__ import annotations

import json
import pickletools
import re
import struct
import zipfile
from pathlib import Path

_SNIFF = 4096
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
# Modules whose functions a weights file has no business calling, and builtins that run or reach code.
_CODE_MODULES = (
    "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "runpy", "importlib", "pickle", "_pickle",
    "marshal", "types", "ctypes", "webbrowser", "pty", "code", "codeop", "commands", "platform", "asyncio",
    "multiprocessing", "pdb", "timeit", "operator", "functools", "io", "pathlib", "tempfile", "urllib",
)  # fmt: skip
_CODE_BUILTINS = (
    "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "input", "breakpoint", "exit", "quit", "help", "memoryview",
)  # fmt: skip
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def describe(path: Path) -> str:
    """A phrase for what ``path`` holds, when it did not load as weights: "an HTML page (title '...')"."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(_SNIFF)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if size == 0:
        return "empty (0 bytes)"
    if head.startswith(b"PK"):
        return _describe_zip(path, size)
    if looks_like_safetensors(head, size):
        return "a safetensors file whose header or data is damaged (truncated?)"
    if head.startswith(b"\x80"):
        return _describe_pickle(path.read_bytes())
    text = _text(head)
    if text is not None:
        return _describe_text(text, head, size)
    return f"neither a torch file nor safetensors ({size} bytes of binary data starting {head[:8].hex()})"


def is_torch_file(path: Path) -> bool:
    """What ``torch.save`` writes: a zip with a ``data.pkl``, or the pre-1.6 pickle with torch's magic."""
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF)
        if head.startswith(b"PK"):
            with zipfile.ZipFile(path) as archive:
                return any(n.endswith("data.pkl") for n in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
    return is_legacy_torch(head)


def looks_like_safetensors(head: bytes, size: int) -> bool:
    """safetensors' layout: an 8-byte little-endian header length, then a JSON header starting ``{``."""
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= size - 8 and head[8:9] == b"{"


def _describe_zip(path: Path, size: int) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            pickles = [n for n in names if n.endswith("data.pkl")]
            if not pickles:
                return f"a zip archive that torch did not write (no data.pkl among {len(names)} members)"
            data = archive.read(pickles[0])
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        return f"a truncated or damaged zip archive ({size} bytes; an interrupted download? {exc})"
    return _describe_pickle(data, torch_zip=True)


def _describe_pickle(data: bytes, *, torch_zip: bool = False) -> str:
    found = scan_pickle(data)
    calls = [g for g in found.globals if runs_code(g)]
    if calls:
        return f"a pickle that would run code when loaded (it calls {calls[0]}); refused, nothing of it ran"
    if found.module:
        return (
            "a whole pickled model (torch.save(model)), not a state dict; on the machine that saved it, "
            "re-save with torch.save(model.state_dict(), path)"
        )
    others = [g for g in found.globals if not g.startswith(("torch.", "collections.OrderedDict", "_codecs."))]
    if others:
        return f"a pickle of Python objects other than tensors ({', '.join(others[:3])})"
    if not torch_zip and found.first_int != _TORCH_LEGACY_MAGIC:
        return "a plain Python pickle, not a file torch.save wrote"
    if found.error:
        return f"a torch file cut short or damaged ({found.error})"
    return "a torch file that holds no mapping of names to tensors"


def runs_code(qualified: str) -> bool:
    module, _, name = qualified.rpartition(".")
    if module in ("builtins", "__builtin__"):
        return name in _CODE_BUILTINS
    return module.split(".", 1)[0] in _CODE_MODULES


def is_legacy_torch(head: bytes) -> bool:
    """The first object of a pre-1.6 ``torch.save`` file: its magic number, pickled as a LONG1."""
    return head[:4] == b"\x80\x02\x8a\x0a" and int.from_bytes(head[4:14], "little") == _TORCH_LEGACY_MAGIC


class PickleScan:
    def __init__(self) -> None:
        self.globals: list[str] = []
        self.module = False
        self.first_int: int | None = None
        self.error: str | None = None


def scan_pickle(data: bytes) -> PickleScan:
    """The globals a pickle names and whether it looks like a pickled ``nn.Module``, without running it."""
    scan = PickleScan()
    strings: list[str] = []
    try:
        for opcode, arg, _pos in pickletools.genops(data):
            name = opcode.name
            if scan.first_int is None and name in ("LONG1", "LONG4", "BININT", "BININT1", "BININT2", "LONG"):
                scan.first_int = arg
            if isinstance(arg, str) and "UNICODE" in name:
                strings.append(arg)
                if arg in ("_modules", "_parameters"):
                    scan.module = True
            elif name == "GLOBAL":
                scan.globals.append(str(arg).replace(" ", "."))
            elif name == "STACK_GLOBAL" and len(strings) >= 2:
                scan.globals.append(f"{strings[-2]}.{strings[-1]}")
            if name == "STOP" and scan.first_int == _TORCH_LEGACY_MAGIC:
                scan.first_int = _TORCH_LEGACY_MAGIC  # keep: the legacy format has several pickles
                break
    except (ValueError, EOFError, IndexError, KeyError, struct.error, UnicodeDecodeError) as exc:
        scan.error = str(exc)[:120] or type(exc).__name__
    if any(g.startswith("torch.nn.modules.") for g in scan.globals):
        scan.module = True
    return scan


def _text(head: bytes) -> str | None:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sniff boundary
            return None
        text = head[: exc.start].decode("utf-8")
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return text if text and printable >= 0.95 * len(text) else None


def _describe_text(text: str, head: bytes, size: int) -> str:
    stripped = text.lstrip("\ufeff \r\n\t")
    lowered = stripped[:200].lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered or "<body" in lowered:
        title = _TITLE.search(head)
        said = f" titled {title.group(1).decode('utf-8', 'replace').strip()[:80]!r}" if title else ""
        return f"an HTML page{said} ({size} bytes), not weights: the server sent an error or login page"
    if lowered.startswith("<?xml") or lowered.startswith("<error"):
        return f"an XML document ({size} bytes; a storage service's error?): {_snippet(stripped)}"
    if stripped[:1] in "{[":
        try:
            json.loads(text if size <= _SNIFF else "")
            return f"a JSON document ({size} bytes), not weights: {_snippet(stripped)}"
        except ValueError:
            if size <= _SNIFF:
                return f"text that looks like JSON ({size} bytes): {_snippet(stripped)}"
            return f"a JSON document ({size} bytes), not weights: {_snippet(stripped)}"
    return f"a text file ({size} bytes), not weights: {_snippet(stripped)}"


def _snippet(text: str) -> str:
    line = " ".join(text.split())[:100]
    return repr(line + ("..." if len(text) > 100 else ""))
