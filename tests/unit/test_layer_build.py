"""The layer as `sam build` makes it: bytecode for its modules (compiled for /opt, which is
read-only on Lambda), the locked versions, and no botocore but the one the tests run."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"
SAM_BUILT = ROOT / ".aws-sam" / "build" / "CommonLayer" / "python"
# A hash-based .pyc that is never checked against its source: bit 0 set, bit 1 clear.
UNCHECKED_HASH = 0b01


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CI's `sam build` output when it is newer than the layer's recipe, else a fresh build."""
    recipe = max((LAYER / name).stat().st_mtime for name in ("Makefile", "requirements.lock"))
    if SAM_BUILT.is_dir() and SAM_BUILT.stat().st_mtime > recipe:
        return SAM_BUILT
    artifacts = tmp_path_factory.mktemp("layer")
    subprocess.run(["make", "--no-print-directory", "-C", str(LAYER), "build-CommonLayer",
                    f"ARTIFACTS_DIR={artifacts}"], check=True, capture_output=True)
    return artifacts / "python"


def _installed(site: Path) -> dict[str, str]:
    names = {}
    for info in site.glob("*.dist-info"):
        name, _, rest = info.name.removesuffix(".dist-info").partition("-")
        names[name.lower().replace("_", "-")] = rest
    return names


def test_at_least_nine_modules_in_ten_ship_unchecked_bytecode(site):
    modules = [p for p in site.rglob("*.py") if "bin" not in p.relative_to(site).parts]
    compiled = 0
    for module in modules:
        pyc = module.parent / "__pycache__" / f"{module.stem}.cpython-311.pyc"
        if pyc.is_file():
            flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
            compiled += flags == UNCHECKED_HASH
    assert len(modules) > 1000
    assert compiled / len(modules) >= 0.9, f"{compiled} of {len(modules)} modules compiled"


def test_no_botocore_boto3_or_s3transfer_but_the_tests_own_versions(site):
    installed = _installed(site)
    for name in ("botocore", "boto3", "s3transfer"):
        assert installed.get(name, version(name)) == version(name), name
    assert not (site / "botocore").exists() or installed.get("botocore") == version("botocore")


def test_the_layer_holds_exactly_the_locked_versions(site):
    locked = {}
    for line in (LAYER / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            locked[name.lower().replace("_", "-")] = pinned
    assert _installed(site) == locked
    assert (site / "common" / "__init__.py").is_file()
