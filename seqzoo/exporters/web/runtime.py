"""LiteRT.js, pinned: the two npm packages a page runs `.tflite` files with, found, checked and copied.

The packages (`@litertjs/core`, `@litertjs/wasm-utils`) are npm tarballs kept in one folder:
`$SEQZOO_LITERTJS`, else seqzoo's cache (`~/.cache/seqzoo/litertjs`). `seqzoo web --fetch-runtime`
puts them there with `npm pack`; where npm is not available, download the two URLs below into that
folder. Nothing is fetched at export time: an export without them fails before it writes anything.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from seqzoo.errors import UserError
from seqzoo.files import cache_dir, file_digest

VERSION = "2.5.3"
# npm tarball -> its sha256 (the registry's own files, checked before anything is copied out of them).
TARBALLS = {
    f"litertjs-core-{VERSION}.tgz": "a97660833e9e7e1063c95e12016718881240b14f7438728a2f62785e912d30fd",
    f"litertjs-wasm-utils-{VERSION}.tgz": "ce2a1f8379c067be49e59752e5a7f40db6be09f6e497f0f11e59f17b515366a7",
}
URLS = [f"https://registry.npmjs.org/@litertjs/core/-/core-{VERSION}.tgz",
        f"https://registry.npmjs.org/@litertjs/wasm-utils/-/wasm-utils-{VERSION}.tgz"]
# What a page loads, by tarball: (path in the tarball, path under the page's litert/ folder). The wasm
# pair with relaxed SIMD, and the `compat` pair LiteRT.js picks in browsers without it; a browser
# downloads one of the two.
FILES = {
    f"litertjs-core-{VERSION}.tgz": [
        ("package/dist/index.js", "core/index.js"),
        ("package/package.json", "core/package.json"),
        *[(f"package/wasm/litert_wasm{kind}_internal.{ext}", f"wasm/litert_wasm{kind}_internal.{ext}")
          for kind in ("", "_compat") for ext in ("js", "wasm")],
    ],
    f"litertjs-wasm-utils-{VERSION}.tgz": [
        ("package/dist/index.js", "wasm-utils/index.js"),
        ("package/package.json", "wasm-utils/package.json"),
    ],
}
MAX_FILE_BYTES = 64 << 20  # the largest file in the tarballs is 9.4 MB


def runtime_folder() -> Path:
    """Where the LiteRT.js tarballs are kept."""
    return Path(os.environ["SEQZOO_LITERTJS"]) if os.environ.get("SEQZOO_LITERTJS") else cache_dir("litertjs")


def checked_runtime() -> Path:
    """The runtime folder, with both tarballs present and unaltered; UserError saying how to get them."""
    folder = runtime_folder()
    missing = [name for name in TARBALLS if not (folder / name).is_file()]
    if missing:
        raise UserError(f"seqzoo export --web needs LiteRT.js {VERSION}, and '{folder}' lacks "
                        f"{', '.join(missing)}: run `seqzoo web --fetch-runtime` (npm), or download "
                        f"{' and '.join(URLS)} into it")
    for name, digest in TARBALLS.items():
        if file_digest(folder / name, whole=True) != digest:
            raise UserError(f"'{folder / name}' is not the LiteRT.js {VERSION} package (its sha256 differs); "
                            "delete it and run `seqzoo web --fetch-runtime`")
    return folder


def runtime_missing() -> str | None:
    """Why exports cannot have a browser page here (LiteRT.js not fetched, or altered), or None."""
    try:
        checked_runtime()
    except UserError as err:
        return str(err)
    return None


def fetch_runtime() -> Path:
    """Puts the pinned tarballs in the runtime folder with `npm pack`, then checks them."""
    folder = runtime_folder()
    npm = shutil.which("npm")
    if npm is None:
        raise UserError(f"npm is not installed: download {' and '.join(URLS)} into '{folder}' instead")
    folder.mkdir(parents=True, exist_ok=True)
    packages = [f"@litertjs/core@{VERSION}", f"@litertjs/wasm-utils@{VERSION}"]
    done = subprocess.run([npm, "pack", *packages, "--pack-destination", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise UserError(f"npm pack {' '.join(packages)} failed: {lines[-1] if lines else done.returncode}")
    return checked_runtime()


def copy_runtime(target: Path) -> None:
    """Writes what a page loads, out of the checked tarballs, into `target` (a page's litert/ folder),
    with the licence."""
    folder = checked_runtime()
    for path, content in _unpacked(folder).items():
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
    shutil.copyfile(Path(__file__).parent / "page" / "LITERTJS_LICENSE", target / "LICENSE")


@functools.cache
def _unpacked(folder: Path) -> dict[str, bytes]:
    """{path under litert/: content} of the tarballs in `folder` (checked by the caller), unpacked once a
    process: an export of many entries writes the same 19 MB each time."""
    files = {}
    for tarball, members in FILES.items():
        with tarfile.open(folder / tarball, "r:gz") as archive:
            for member, path in members:
                info = archive.getmember(member)
                if not info.isfile() or info.size > MAX_FILE_BYTES:
                    raise UserError(f"'{folder / tarball}' holds no plain file {member}")
                with archive.extractfile(info) as source:
                    files[path] = source.read()
    return files

