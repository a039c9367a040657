"""Safe output folders: pfseval writes only where it is told, and never loses a user's file.

An output folder is *staged* (written completely into a hidden ``.<name>.partial-<pid>-…``
folder next to it) and then *published* by a rename. A published folder carries a marker file,
``.pfseval-output``, listing every file pfseval wrote there. The rules:

* a new folder, an empty folder, or a folder with the marker (one pfseval wrote before) is
  written; any other existing folder is refused (:class:`~pfseval.errors.OutputError`) unless
  ``force=True``, and even then pfseval only *adds* its files: a file it did not write is
  never deleted or overwritten;
* files a user added to a marked folder stay where they are: pfseval then replaces only its
  own files, one by one;
* ``results.json`` is written last, so a killed run never leaves a complete-looking
  ``results.json``; partial folders of runs that are no longer alive are removed;
* per-person (private) tables are staged and published *before* the published folder, and
  never inside it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pfseval.errors import OutputError

__all__ = [
    "MARKER",
    "Staged",
    "check_output_folders",
    "check_target",
    "claim",
    "commit",
    "discard",
    "is_pfseval_folder",
    "stage",
    "write_outputs",
    "write_private",
]

#: Marker file of a folder pfseval wrote (JSON: the files pfseval wrote there).
MARKER = ".pfseval-output"
#: Marker of a staging folder (removed when the folder is published).
_PARTIAL_MARKER = ".pfseval-partial"


def _fix(msg: str) -> str:
    return f"{msg} Fix: choose a new folder for --out (pfseval creates it), or pass --force to add pfseval's files to it (nothing already there is deleted or overwritten)."


def _manifest(folder: Path) -> set[str]:
    """The files (relative POSIX paths) pfseval wrote into a marked folder."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    files = doc.get("files", []) if isinstance(doc, dict) else []
    return {f for f in files if isinstance(f, str)}


def is_pfseval_folder(folder: str | Path) -> bool:
    """Whether ``folder`` is one pfseval wrote (it has the marker file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> is_pfseval_folder(pathlib.Path(tempfile.mkdtemp()))
    False
    """
    return (Path(folder) / MARKER).is_file()


def _files(folder: Path) -> list[str]:
    """Every file below ``folder`` (relative POSIX paths, markers excluded), sorted."""
    out = []
    for p in folder.rglob("*"):
        if p.is_file() or p.is_symlink():
            rel = p.relative_to(folder).as_posix()
            if rel not in (MARKER, _PARTIAL_MARKER):
                out.append(rel)
    return sorted(out)


def _protected(out: Path) -> bool:
    """Whether ``out`` is the current folder or one of its parents (never renamed)."""
    cwd = Path.cwd().resolve()
    r = out.resolve()
    return r == cwd or r in cwd.parents


def check_target(out: str | Path, *, force: bool = False, what: str = "--out") -> None:
    """Refuse an output folder pfseval may not write; return quietly otherwise.

    Raises
    ------
    OutputError
        ``out`` is the current folder (or a parent of it), a file, a symbolic link, or an
        existing non-empty folder pfseval did not write (without ``force``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "spec.toml").write_text("")
    >>> try:
    ...     check_target(d)
    ... except OutputError as e:
    ...     print("refused")
    refused
    >>> check_target(d / "new")
    """
    p = Path(out)
    if _protected(p):
        raise OutputError(
            f"{what} {p}: is the current folder or a parent of it; pfseval writes each result "
            "into a folder of its own. Fix: give a new folder name, e.g. --out results"
        )
    if p.is_symlink():
        raise OutputError(
            f"{what} {p}: is a symbolic link; pfseval does not write through links. Fix: give "
            "the real folder or a new folder name"
        )
    if p.exists() and not p.is_dir():
        raise OutputError(f"{what} {p}: is a file, not a folder. Fix: give a folder name")
    if not p.is_dir() or is_pfseval_folder(p) or force:
        return
    if any(p.iterdir()):
        raise OutputError(
            _fix(
                f"{what} {p}: the folder exists, is not empty and was not written by pfseval "
                f"(it has no {MARKER} file); pfseval will not replace or delete its files."
            )
        )


def claim(folder: str | Path) -> None:
    """Create ``folder`` (if needed) as a pfseval folder that holds other output folders.

    A new or empty folder gets the marker (with no files of its own), so that a later run
    may write into it again; a folder pfseval did not write is left as it is.
    """
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    if not is_pfseval_folder(p) and not any(p.iterdir()):
        _write_marker(p, [])


def check_output_folders(out: Path, private_out: Path | None) -> None:
    """Refuse a private folder inside (or equal to, or containing) the published one.

    Examples
    --------
    >>> from pathlib import Path
    >>> try:
    ...     check_output_folders(Path("res"), Path("res/private"))
    ... except OutputError as e:
    ...     print(str(e).split(":")[0])
    --private-out res/private
    """
    if private_out is None:
        return
    o, p = out.resolve(), private_out.resolve()
    if p == o or o in p.parents or p in o.parents:
        raise OutputError(
            f"--private-out {private_out}: the per-person tables would be inside (or contain) "
            f"the published folder {out}. Fix: give a --private-out folder outside --out"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive
        return True
    return True


def clean_stale(out: Path) -> list[Path]:
    """Remove the staging / replaced copies of ``out`` left by runs that are no longer alive.

    Only folders pfseval made (named ``.<name>.partial-<pid>-…`` or ``.<name>.old-<pid>-…``
    and carrying its marker) are removed. Returns the removed folders.
    """
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    for kind, marker in (("partial", _PARTIAL_MARKER), ("old", MARKER)):
        for p in out.parent.glob(f".{out.name}.{kind}-*"):
            pid = p.name[len(f".{out.name}.{kind}-") :].split("-", 1)[0]
            if (
                p.is_dir()
                and not p.is_symlink()
                and (p / marker).is_file()
                and pid.isdigit()
                and not _pid_alive(int(pid))
                and (kind == "partial" or set(_files(p)) <= _manifest(p))  # only pfseval's
            ):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


@dataclass(frozen=True)
class Staged:
    """A completely written output folder waiting to be published at ``out``."""

    out: Path
    tmp: Path
    written: Mapping[str, Path]


def stage(out: str | Path, build: Callable[[Path], Mapping[str, Path]]) -> Staged:
    """Write an output folder into a hidden staging folder next to ``out``.

    ``build(folder)`` writes the files and returns name → path. On any error the staging
    folder is removed and the error re-raised.
    """
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; published folders get the usual mode
    try:
        (tmp / _PARTIAL_MARKER).write_text("", encoding="utf-8")
        written = dict(build(tmp))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Staged(out=out, tmp=tmp, written=written)


def discard(staged: Staged) -> None:
    """Remove a staged folder that will not be published."""
    shutil.rmtree(staged.tmp, ignore_errors=True)


def _write_marker(folder: Path, files: list[str]) -> None:
    from pfseval import __version__

    doc = {"written_by": "pfseval", "version": __version__, "files": files}
    (folder / MARKER).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def commit(staged: Staged, *, force: bool = False, what: str = "--out") -> dict[str, Path]:
    """Publish a staged folder at its ``out`` (see the module rules); return name → path.

    A new or empty ``out``, or a marked one holding only pfseval's files, is replaced by one
    rename. A folder that also holds other files (a user's files in a marked folder, or any
    folder with ``force``) is updated file by file: only the files pfseval wrote are removed
    (``results.json`` first) and the new ones moved in (``results.json`` last); a user's file
    is never moved, replaced or deleted.

    Raises
    ------
    OutputError
        As :func:`check_target`, or a file pfseval would write already exists and was not
        written by pfseval.
    """
    out, tmp = staged.out, staged.tmp
    try:
        check_target(out, force=force, what=what)
        new = _files(tmp)
        (tmp / _PARTIAL_MARKER).unlink()
        ours = _manifest(out) if is_pfseval_folder(out) else set()
        if out.is_dir() and [f for f in _files(out) if f not in ours]:
            _update_in_place(tmp, out, new, ours, what=what)
        else:
            _write_marker(tmp, new)
            _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: out / Path(v).relative_to(tmp) for k, v in staged.written.items()}


def _replace(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out`` (absent, empty, or holding only pfseval's files)."""
    if not out.exists():
        tmp.rename(out)
        return
    if not is_pfseval_folder(out):  # empty folder
        out.rmdir()
        tmp.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _update_in_place(tmp: Path, out: Path, new: list[str], ours: set[str], *, what: str) -> None:
    """Replace pfseval's files in a folder that also holds other files, touching no other."""
    clash = [f for f in new if f not in ours and ((out / f).exists() or (out / f).is_symlink())]
    if clash:
        raise OutputError(
            f"{what} {out}: pfseval would overwrite files it did not write: "
            f"{', '.join(clash[:5])}{' …' if len(clash) > 5 else ''}. Fix: move them away, "
            "or choose a new folder"
        )
    # the marker lists old and new files while they change, so that an interrupted update
    # leaves nothing pfseval wrote unlisted (and never lists a user's file)
    _write_marker(out, sorted(ours | set(new)))
    for f in sorted(ours, key=lambda f: f != "results.json"):  # results.json first
        p = out / f
        if p.is_file() or p.is_symlink():
            p.unlink()
    for f in sorted(new, key=lambda f: f == "results.json"):  # results.json last
        dst = out / f
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / f, dst)
    for d in sorted({(out / f).parent for f in ours}, key=lambda p: -len(p.parts)):
        if d != out and d.is_dir() and not any(d.iterdir()):
            d.rmdir()  # a sub-folder only pfseval's old files were in
    _write_marker(out, new)


def write_private(run: Any, folder: Path) -> dict[str, Path]:
    """Write the per-person tables (``Estimate.private``) of a run as CSV files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for iid, est in run.estimates.items():
        for name, table in est.private.items():
            if isinstance(table, pd.DataFrame):
                p = folder / f"{iid}__{name}.csv"
                table.to_csv(p, index=False)
                written[f"private:{iid}__{name}"] = p
    return written


def write_outputs(
    run: Any,
    out: str | Path,
    *,
    private_out: str | Path | None = None,
    overwrite: bool = True,
    force: bool = False,
) -> dict[str, Path]:
    """Write results and appendices into ``out``, safely and atomically.

    Everything is written into a hidden staging folder next to ``out`` (``results.json``
    last) and renamed into place only when complete. The per-person tables are staged and
    published first, so a failure there leaves the published folder untouched.

    Parameters
    ----------
    run
        From :func:`pfseval.batch.run_spec`.
    out
        The output folder (``results.json``, ``appendix.html``, ``appendix.pdf``, ``appendix.docx``,
        ``tables.xlsx``, ``figures/``): new, empty, or one pfseval wrote before.
    private_out
        Optional folder for per-person tables (``Estimate.private``): the evaluator's own
        files, never to be published, and never inside ``out``. Nothing per-person is
        written without it.
    overwrite
        Replace a folder pfseval wrote before (``False``: raise ``FileExistsError``).
    force
        Also write into an existing folder pfseval did not write, adding files only.

    Returns
    -------
    dict
        Output name → path.

    Raises
    ------
    OutputError
        The folder may not be written (see :func:`check_target`), or ``private_out`` is
        inside ``out``.
    """
    from pfseval.batch.runner import results_json
    from pfseval.report import write_report

    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True or choose another folder")
    priv = None if private_out is None else Path(private_out)
    check_output_folders(out, priv)
    check_target(out, force=force)
    if priv is not None:
        check_target(priv, force=force, what="--private-out")

    def build(tmp: Path) -> dict[str, Path]:
        written = write_report(run, tmp)
        (tmp / "results.json").write_text(results_json(run), encoding="utf-8")
        written["results"] = tmp / "results.json"
        return written

    staged = stage(out, build)
    try:
        if priv is not None:
            commit(stage(priv, lambda f: write_private(run, f)), force=force, what="--private-out")
    except BaseException:
        discard(staged)
        raise
    return commit(staged, force=force)
