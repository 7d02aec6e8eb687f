"""zoo.datasets.archives.extract: once-only, atomic, and refusing members that escape the target."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest

from zoo.atomic import atomic_folder
from zoo.datasets.archives import MARKER, ArchiveError, extract


def make_tar(path, members, mode="w:gz"):
    """``members``: (name, kind, data-or-linkname) with kind one of file, dir, sym, hard, fifo."""
    with tarfile.open(path, mode) as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                         "fifo": tarfile.FIFOTYPE}[kind]  # fmt: skip
            if kind in ("sym", "hard"):
                info.linkname = payload
            tar.addfile(info)
    return path


def leftovers(parent):
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


def test_extracts_once_with_marker(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", [("top", "dir", None), ("top/x.bin", "file", b"abc"),
                                                ("top/alias", "sym", "x.bin")])  # fmt: skip
    dest = tmp_path / "out" / "a"
    assert extract(archive, dest, archive_hash="h1") == dest
    assert (dest / "top" / "x.bin").read_bytes() == b"abc"
    assert (dest / "top" / "alias").resolve() == (dest / "top" / "x.bin").resolve()  # a link inside is fine
    assert MARKER in leftovers(dest)
    archive.unlink()  # a second call does not even open the archive
    assert extract(archive, dest, archive_hash="h1") == dest
    assert leftovers(dest.parent) == ["a"]


def test_new_hash_replaces_old_extraction(tmp_path):
    dest = tmp_path / "out"
    extract(make_tar(tmp_path / "1.tar", [("f", "file", b"one")], "w"), dest, archive_hash="h1")
    extract(make_tar(tmp_path / "2.tar", [("g", "file", b"two")], "w"), dest, archive_hash="h2")
    assert leftovers(dest) == sorted([MARKER, "g"])
    assert leftovers(tmp_path) == sorted(["1.tar", "2.tar", "out"])


def test_atomic_folder_keeps_a_concurrent_winner_and_replaces_a_stale_folder(tmp_path):
    dest = tmp_path / "out"

    def racing(tmp):  # another process finishes ``dest`` while this one is still filling its temp folder
        (tmp / "mine").write_text("mine")
        dest.mkdir()
        (dest / "theirs").write_text("theirs")

    def complete(folder):
        return (folder / "theirs").exists() or (folder / "mine").exists()

    assert atomic_folder(dest, racing, complete) == dest
    assert leftovers(dest) == ["theirs"]  # the finished folder is kept, not overwritten
    assert leftovers(tmp_path) == ["out"]  # and no temp folder is left

    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "half").write_text("")
    atomic_folder(stale, lambda tmp: (tmp / "mine").write_text("mine"), complete)
    assert leftovers(stale) == ["mine"]
    assert leftovers(tmp_path) == ["out", "stale"]

    def broken(tmp):
        (tmp / "partial").write_text("")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_folder(tmp_path / "never", broken, complete)
    assert leftovers(tmp_path) == ["out", "stale"]


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("../evil.txt", "file", b"x")], "climbs out"),
        ([("ok/../../evil.txt", "file", b"x")], "climbs out"),
        ([("/tmp/evil.txt", "file", b"x")], "absolute"),
        ([("link", "sym", "../../outside")], "outside"),
        ([("link", "sym", "/etc/passwd")], "absolute"),
        ([("d", "dir", None), ("d/link", "sym", "../..")], "outside"),
        ([("hard", "hard", "../../etc/passwd")], "climbs out|outside"),
        ([("fifo", "fifo", None)], "special file"),
        # a link to a folder inside, then a member written through a link that leads out
        ([("up", "sym", "."), ("escape", "sym", "up/../..")], "outside"),
    ],
)
def test_malicious_tar_is_refused_and_leaves_nothing(tmp_path, members, message):
    archive = make_tar(tmp_path / "evil.tar.gz", [("fine.txt", "file", b"ok"), *members])
    dest = tmp_path / "out" / "evil"
    with pytest.raises(ArchiveError, match=message):
        extract(archive, dest, archive_hash="h")
    assert leftovers(dest.parent) == []  # no partial extraction, no temp folder
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "outside").exists()


def test_write_through_symlinked_folder_out_of_target_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out" / "x"
    dest.parent.mkdir()
    # the first member is a link to an existing folder outside; the second tries to write through it
    archive = make_tar(tmp_path / "t.tar", [("d", "sym", str(outside)), ("d/pwn.txt", "file", b"x")], "w")
    with pytest.raises(ArchiveError):
        extract(archive, dest, archive_hash="h")
    assert leftovers(outside) == [] and leftovers(dest.parent) == []


def test_truncated_archive_is_a_clear_error_and_leaves_nothing(tmp_path):
    full = make_tar(tmp_path / "full.tar.gz", [("big.bin", "file", bytes(range(256)) * 4000)])
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    dest = tmp_path / "out" / "cut"
    with pytest.raises(ArchiveError, match="damaged"):
        extract(cut, dest, archive_hash="h")
    assert leftovers(dest.parent) == []


def test_zip_extraction_and_checks(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("a/b.txt", "hello")
    dest = extract(good, tmp_path / "out" / "good", archive_hash="z")
    assert (dest / "a" / "b.txt").read_text() == "hello"

    for name, message in (("../evil", "climbs out"), ("/abs/evil", "absolute"), ("C:/evil", "absolute")):
        bad = tmp_path / "bad.zip"
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr(name, "x")
        with pytest.raises(ArchiveError, match=message):
            extract(bad, tmp_path / "out" / "bad", archive_hash="z")

    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="not a plain file"):
        extract(link, tmp_path / "out" / "link", archive_hash="z")
    assert leftovers(tmp_path / "out") == ["good"]


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_archive_expanding_a_thousandfold_is_refused_and_leaves_nothing(tmp_path, monkeypatch, kind):
    import zoo.datasets.archives as archives

    monkeypatch.setattr(archives, "FLOOR_BYTES", 1 << 20)  # the real floor is 100 MiB: a test writes less
    bomb = tmp_path / f"bomb.{kind}"
    zeros = bytes(8 << 20)  # 8 MiB of zeros compress to a few KiB: > 100x
    if kind == "zip":
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("zeros.bin", zeros)
    else:
        make_tar(bomb, [("zeros.bin", "file", zeros)])
    assert bomb.stat().st_size * 100 < len(zeros)
    dest = tmp_path / "out" / "bomb"
    with pytest.raises(ArchiveError, match=r"expands past 1,048,576 bytes \(100x its size\): a zip bomb"):
        extract(bomb, dest, archive_hash="b")
    assert leftovers(dest.parent) == []
    noise = tmp_path / f"noise.{kind}"  # incompressible: its size is near its contents', well within 100x
    data = __import__("random").Random(0).randbytes(2 << 20)
    if kind == "zip":
        with zipfile.ZipFile(noise, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("noise.bin", data)
    else:
        make_tar(noise, [("noise.bin", "file", data)])
    assert (extract(noise, tmp_path / "out" / "noise", archive_hash="n") / "noise.bin").read_bytes() == data


def test_a_missing_archive_is_said_not_called_damaged(tmp_path):
    with pytest.raises(ArchiveError, match="missing.tar does not exist"):
        extract(tmp_path / "missing.tar", tmp_path / "out", archive_hash="h")
    with pytest.raises(ArchiveError, match="is a folder"):
        extract(tmp_path, tmp_path / "out", archive_hash="h")
