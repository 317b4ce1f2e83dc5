"""``zimfile.recompress_clusters``: a libzim-written file, its clusters compressed afterwards,
read back with libzim."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

libzim = pytest.importorskip("libzim", reason="libzim is not installed: pip install 'kbsite[zim]'")
pytest.importorskip("zstandard", reason="zstandard is not installed: pip install 'kbsite[zim]'")

from libzim.reader import Archive  # noqa: E402
from libzim.search import Query, Searcher  # noqa: E402
from libzim.writer import Compression, Creator, Hint, StringProvider  # noqa: E402
from libzim.writer import Item as ZimItem  # noqa: E402

from kbsite.errors import OutputError  # noqa: E402
from kbsite.output.zimfile import HEADER, UNCOMPRESSED, ZSTD, cluster_count, recompress_clusters  # noqa: E402

WORDS = [
    "memory",
    "leak",
    "driver",
    "printer",
    "spooler",
    "network",
    "shadowing",
    "session",
    "registry",
]


class Page(ZimItem):  # type: ignore[misc]
    def __init__(self, path: str, title: str, content: bytes, mimetype: str = "text/html") -> None:
        super().__init__()
        self.path, self.title, self.content, self.mimetype = path, title, content, mimetype

    def get_path(self) -> str:
        return self.path

    def get_title(self) -> str:
        return self.title

    def get_mimetype(self) -> str:
        return self.mimetype

    def get_contentprovider(self) -> StringProvider:
        return StringProvider(self.content)

    def get_hints(self) -> dict[Hint, int]:
        return {Hint.FRONT_ARTICLE: self.mimetype == "text/html"}


def pages() -> dict[str, bytes]:
    """Enough text for many small clusters; one word only in one page, to search for."""
    chance = random.Random(7)
    made = {}
    for number in range(300):
        words = " ".join(chance.choice(WORDS) for _ in range(400))
        made[f"kb/Q{100000 + number}.html"] = (
            f"<html><head><title>Q{100000 + number}</title></head>"
            f"<body><h1>Article {number}</h1><p>{words}</p></body></html>"
        ).encode()
    made["kb/Q100123.html"] = made["kb/Q100123.html"].replace(b"<p>", b"<p>xylophone ")
    made["static/icon.bin"] = bytes(chance.randrange(256) for _ in range(5000))
    return made


def write(path: Path, content: dict[str, bytes], compression: Compression) -> None:
    creator = (
        Creator(str(path))
        .config_indexing(True, "eng")
        .config_compression(compression)
        .config_clustersize(16)  # KiB: many clusters
    )
    with creator:
        creator.set_mainpath("kb/Q100000.html")
        creator.add_metadata("Title", "Test")
        creator.add_metadata("Language", "eng")
        for name, data in content.items():
            mimetype = "text/html" if name.endswith(".html") else "application/octet-stream"
            creator.add_item(Page(name, name, data, mimetype))


def cluster_kinds(path: Path) -> dict[str, int]:
    """Each entry's path (namespace first) and its cluster's compression."""
    data = path.read_bytes()
    header = HEADER.unpack_from(data)
    entries, clusters, path_pointers, cluster_pointers = header[4], header[5], header[6], header[8]
    starts = struct.unpack_from(f"<{clusters}Q", data, cluster_pointers)
    kinds = {}
    for at in struct.unpack_from(f"<{entries}Q", data, path_pointers):
        mimetype, _, namespace = struct.unpack_from("<HBc", data, at)
        if mimetype != 0xFFFF:
            (cluster,) = struct.unpack_from("<I", data, at + 8)
            name = data[at + 16 : data.index(b"\0", at + 16)].decode()
            kinds[f"{namespace.decode()}/{name}"] = data[starts[cluster]] & 0x0F
    return kinds


@pytest.fixture(scope="module")
def content() -> dict[str, bytes]:
    return pages()


@pytest.fixture(scope="module")
def uncompressed(tmp_path_factory: pytest.TempPathFactory, content: dict[str, bytes]) -> Path:
    path = tmp_path_factory.mktemp("zimfile") / "plain.zim"
    write(path, content, Compression.none)
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_recompressed_file_reads_back_entry_for_entry(
    uncompressed: Path, content: dict[str, bytes], tmp_path: Path, jobs: int
) -> None:
    target = tmp_path / "packed.zim"
    advanced = []
    recompress_clusters(uncompressed, target, jobs=jobs, advance=advanced.append)
    assert len(advanced) == cluster_count(uncompressed) > 10
    assert target.stat().st_size < uncompressed.stat().st_size / 3
    before, after = Archive(uncompressed), Archive(target)
    assert after.check()
    assert after.entry_count == before.entry_count
    assert after.main_entry.get_item().path == "kb/Q100000.html"
    for path, data in content.items():
        assert bytes(after.get_entry_by_path(path).get_item().content) == data
    assert after.get_metadata("Title") == b"Test"
    assert after.has_fulltext_index
    found = Searcher(after).search(Query().set_query("xylophone"))
    assert list(found.getResults(0, 5)) == ["kb/Q100123.html"]


def test_the_pages_are_compressed_and_the_indexes_are_not(
    uncompressed: Path, tmp_path: Path
) -> None:
    target = tmp_path / "packed.zim"
    recompress_clusters(uncompressed, target)
    assert set(cluster_kinds(uncompressed).values()) <= set(UNCOMPRESSED)
    kinds = cluster_kinds(target)
    assert {kinds[f"C/kb/Q{100000 + n}.html"] for n in range(300)} == {ZSTD}
    assert kinds["X/fulltext/xapian"] in UNCOMPRESSED  # read in place, at its offset
    assert kinds["X/title/xapian"] in UNCOMPRESSED
    assert kinds["C/static/icon.bin"] in UNCOMPRESSED  # random bytes: zstd would add to them


def test_a_compressed_file_is_copied_byte_for_byte(
    tmp_path: Path, content: dict[str, bytes]
) -> None:
    source = tmp_path / "zstd.zim"
    write(source, content, Compression.zstd)
    target = tmp_path / "again.zim"
    recompress_clusters(source, target)
    assert target.read_bytes() == source.read_bytes()


def test_not_a_zim_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "page.zim"
    source.write_bytes(b"<html></html>" * 10)
    with pytest.raises(OutputError, match="not a ZIM file") as caught:
        recompress_clusters(source, tmp_path / "out.zim")
    assert caught.value.path == source
