"""`amisec bundle`: an OPA bundle whose revision is its content digest, byte for byte reproducible."""
from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.engine import PolicyError
from amisec.engine.bundle import (
    DATA_FILE,
    MANIFEST,
    build_bundle,
    bundle_revision,
    content_digest,
    module_entry,
    standards_data,
    write_bundle,
)
from amisec.policies.catalog import PolicyFile, load_catalog
from amisec.standards import load_catalogs, load_mapping


@pytest.fixture(scope="module")
def files():
    return load_catalog().files


@pytest.fixture(scope="module")
def built(files):
    return build_bundle(files, standards_data())


def members(payload: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        return {m.name: (m, tar.extractfile(m).read()) for m in tar.getmembers()}


def test_contents(files, built):
    payload, _ = built
    found = members(payload)
    expected = {MANIFEST, DATA_FILE} | {module_entry(f) for f in files}
    assert set(found) == expected
    assert found["amisec/lib/lib.rego"][1] == next(f for f in files if f.path == "policies/lib.rego").source.encode()
    for f in files:
        package = f.source.split("package ", 1)[1].split()[0]
        assert module_entry(f).startswith(package.replace(".", "/") + "/")
        assert found[module_entry(f)][1].decode() == f.source


def test_manifest_revision_is_the_content_digest(built):
    payload, revision = built
    found = members(payload)
    manifest = json.loads(found[MANIFEST][1])
    assert manifest == {"revision": revision, "roots": ["amisec"], "rego_version": 1}
    content = {name: data for name, (_, data) in found.items() if name != MANIFEST}
    assert content_digest(content) == revision
    assert len(revision) == 64 and int(revision, 16) >= 0


def test_roots_cover_every_module_and_every_datum(built):
    """What OPA checks when it activates a bundle: packages and data paths under a root."""
    found = members(built[0])
    roots = json.loads(found[MANIFEST][1])["roots"]
    for name, (_, data) in found.items():
        if name.endswith(".rego"):
            package = data.decode().split("package ", 1)[1].split()[0]
            assert any(package == r or package.startswith(r + ".") for r in roots), name
    assert set(json.loads(found[DATA_FILE][1])) <= set(roots)


def test_data_json(built):
    data = json.loads(members(built[0])[DATA_FILE][1])
    standards = data["amisec"]["standards"]
    assert set(standards) == set(load_catalogs())
    for key, catalog in load_catalogs().items():
        assert [c["id"] for c in standards[key]["controls"]] == list(catalog.ids)
        assert all(isinstance(c["verified"], bool) for c in standards[key]["controls"])
    assert data["amisec"]["mapping"] == load_mapping()


def test_deterministic_bytes(files, tmp_path):
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    assert write_bundle(str(first), files, standards_data()) == write_bundle(str(second), files, standards_data())
    assert first.read_bytes() == second.read_bytes()
    payload = first.read_bytes()
    assert payload[4:8] == b"\0\0\0\0"  # gzip header mtime
    for info, _ in members(payload).values():
        assert (info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode) == (0, 0, 0, "", "", 0o644)
    names = list(members(payload))
    assert names == sorted(names)


def test_revision_follows_the_content(files):
    data = standards_data()
    changed = [PolicyFile(f.path, f.source + "\n# changed\n", f.builtin) if f.path == "policies/lib.rego" else f for f in files]
    assert bundle_revision(changed, data) != bundle_revision(files, data)
    assert bundle_revision(files, {"amisec": {"mapping": {}}}) != bundle_revision(files, data)
    assert bundle_revision(files, data) == build_bundle(files, data)[1]


def test_module_outside_the_root_is_refused():
    with pytest.raises(PolicyError, match="outside the bundle root"):
        module_entry(PolicyFile("x/acme.rego", "package acme.rules\n", False))
    with pytest.raises(PolicyError, match="needs a `package` line"):
        module_entry(PolicyFile("x/empty.rego", "# nothing\n", False))


def test_two_files_of_one_package_with_one_name_are_refused():
    one = PolicyFile("a/net.rego", "package amisec.rules.acme\n", False)
    two = PolicyFile("b/net.rego", "package amisec.rules.acme\n", False)
    with pytest.raises(PolicyError, match="same package"):
        build_bundle([one, two], {})


def test_cli_writes_the_bundle(tmp_path, built):
    target = tmp_path / "amisec-bundle.tar.gz"
    result = CliRunner().invoke(main, ["bundle", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == built[0]
    assert f"revision {built[1]}" in result.output


def test_cli_to_stdout(built):
    result = CliRunner().invoke(main, ["bundle", "-o", "-"])
    assert result.exit_code == 0
    assert result.stdout_bytes == built[0]


def test_cli_unwritable_target(tmp_path):
    result = CliRunner().invoke(main, ["bundle", "-o", str(tmp_path / "missing" / "b.tar.gz")])
    assert result.exit_code == 2
    assert "cannot write" in result.output


def test_gzip_stream_is_plain(built):
    raw = gzip.decompress(built[0])
    assert raw[257:262] == b"ustar"  # a tar archive OPA's reader takes
