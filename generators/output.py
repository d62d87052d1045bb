"""Writing the output tree: stage, validate, then swap in atomically (or compare).

The generated tree is first written to a staging folder next to the output folder
(same filesystem), validated there, and only then swapped in with two renames, so
the output folder is never half-written and files no longer produced disappear.
``compare_tree`` is the ``--check`` mode: it writes nothing and reports the drift.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from pathlib import Path

from .emit import OutputFile, check_tree


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stage(files: list[OutputFile], parent: Path | None = None) -> Path:
    """Write ``files`` into a new temporary folder (inside ``parent`` if given) and return it."""
    check_tree(files)
    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=".montool-stage-", dir=parent))
    try:
        root.chmod(0o777 & ~_umask())
        for f in files:
            target = root / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="") as handle:
                handle.write(f.content)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def replace_tree(staged: Path, out: Path) -> None:
    """Atomically replace the folder ``out`` by the folder ``staged`` (which is consumed).

    On any failure ``out`` is left as it was.
    """
    staged, out = Path(staged), Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    if staged.resolve().parent != out.resolve().parent:
        # Bring the tree next to `out` first, so the final swap is a rename on one filesystem.
        near = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
        try:
            shutil.copytree(staged, near, dirs_exist_ok=True)
        except BaseException:
            shutil.rmtree(near, ignore_errors=True)
            raise
        shutil.rmtree(staged, ignore_errors=True)
        staged = near
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        os.rename(out, old)
    try:
        os.rename(staged, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _existing_files(out: Path) -> set[str]:
    if not out.is_dir():
        return set()
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() or p.is_symlink()}


def compare_tree(files: list[OutputFile], out: Path) -> list[str]:
    """The drift between ``files`` and the folder ``out``: an empty list when identical.

    One entry per file: ``missing: <path>``, ``extra: <path>`` (a stale file), or
    ``changed: <path>`` followed by a unified diff from the folder to the new content.
    """
    out = Path(out)
    wanted = {f.path: f.content for f in files}
    existing = _existing_files(out)
    drift = []
    for path in sorted(set(wanted) | existing):
        if path not in existing:
            drift.append(f"missing: {path}")
        elif path not in wanted:
            drift.append(f"extra: {path}")
        else:
            current = (out / path).read_bytes()
            if current != wanted[path].encode("utf-8"):
                diff = difflib.unified_diff(
                    current.decode("utf-8", errors="replace").splitlines(keepends=True),
                    wanted[path].splitlines(keepends=True),
                    fromfile=f"{out.as_posix()}/{path}",
                    tofile=f"{path} (generated)",
                )
                drift.append(f"changed: {path}\n" + _diff_text(diff))
    return drift


def _diff_text(lines) -> str:
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
