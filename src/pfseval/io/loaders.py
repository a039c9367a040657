"""Loaders for health-check extracts: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM,
Shift_JIS/CP932) and Parquet.

Reading goes in four documented steps:

1. **Parse** (CSV): the encoding is checked in chunks (``encoding=None`` takes UTF-8 when the
   file starts with a byte-order mark or is valid UTF-8, UTF-16 when it starts with a UTF-16
   byte-order mark, otherwise CP932, Microsoft's Shift_JIS that Japanese systems export) and
   pyarrow parses the file (a large file without quotes in pieces cut at line ends, each
   copied into the final columns while Arrow parses the next), splitting CP932 as raw bytes
   and decoding only its text columns. Cells stay text at first, so
   leading zeros of ids and codes survive. A record with another number of fields than the
   header is an error listing its file lines (a truncated record is never taken for missing
   values). Empty cells are missing; so are pandas' standard missing markers (``NA``, ``NULL``,
   ``NaN``, ... :data:`NA_SPELLINGS`), which are counted in a note.
2. **Map headers** onto the vocabulary (:func:`pfseval.io.mapping.resolve_columns`).
3. **Convert** each vocabulary column: a numeric column whose every cell is a plain number is
   converted by Arrow at once (a whole-number column as integers when the file's first
   megabyte writes it so); the others go through the text rules of
   :mod:`pfseval.io.validation` (full-width digits NFKC-normalised, thousands separators
   removed, recognised sex / dipstick / yes-no text codes reported as notes; anything else,
   such as ``1_30``, is reported as not a number).
4. **Validate** (:mod:`pfseval.io.validation`); rows are reported by their 1-based *file line*
   for CSV (the header is line 1; computed from the text only when a problem must be shown in
   a file with quoted line breaks or blank lines) and by 1-based record number for Parquet.

No row is ever dropped or reordered. Error messages name the file and never quote its content.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import mmap
import re
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pfseval.checks import byte_range, cell_offsets
from pfseval.errors import DataProblem, PfsevalError
from pfseval.io.mapping import ColumnMapping, MappingError, resolve_columns
from pfseval.io.notices import problem_notice, warn
from pfseval.io.validation import ValidationReport, _parse_checkups, _spec_for
from pfseval.io.vocabulary import REQUIRED_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "FORMATS",
    "NA_SPELLINGS",
    "FileFormatError",
    "check_file",
    "decode_bytes",
    "detect_encoding",
    "read_checkups",
]

_CSV_SUFFIXES = {".csv": ",", ".txt": ",", ".tsv": "\t"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
FORMATS = ("csv", "tsv", "parquet")
"""Values of ``format=`` (``None`` = from the file suffix)."""

# The spellings pandas' read_csv takes for missing values (its documented default list):
# read as missing, as before, but counted in a note so that the reader sees them.
NA_SPELLINGS = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip
_CHUNK = 1 << 23  # bytes decoded at a time when checking an encoding (memory stays flat)
_FILE_LINES = "1-based line numbers in the file (the header is line 1)"
_RECORDS = "1-based record numbers in the Parquet file"


class FileFormatError(PfsevalError):
    """The file cannot be read: unknown format, undecodable text or malformed CSV."""


def decode_bytes(raw: bytes, *, encoding: str | None = None) -> tuple[str, str]:
    """Decode file bytes; detect UTF-8 (with or without BOM), UTF-16 (with a BOM) or CP932
    when ``encoding`` is None.

    Returns
    -------
    (text, encoding)
        The decoded text and the encoding used.

    Examples
    --------
    >>> decode_bytes("年齢".encode("cp932"))
    ('年齢', 'cp932')
    >>> decode_bytes(b"\\xef\\xbb\\xbfage")
    ('age', 'utf-8-sig')
    """
    used = detect_encoding(raw, encoding=encoding)
    return raw.decode(used), used


def _decode_error(raw: bytes | memoryview, at: int, encoding: str) -> str:
    """Where decoding failed, as a file line: never the bytes themselves."""
    line = bytes(raw[:at]).count(b"\n") + 1
    return f"byte {at + 1} (line {line}) is not valid {encoding}"


def _check_decodes(raw: bytes | memoryview, encoding: str) -> int | None:
    """Offset of the first byte that does not decode, or None; decodes in chunks so that a
    large file is never held as one Python string."""
    dec = codecs.getincrementaldecoder(encoding)()
    for start in range(0, max(len(raw), 1), _CHUNK):
        chunk = bytes(raw[start : start + _CHUNK])
        try:
            dec.decode(chunk, final=start + _CHUNK >= len(raw))
        except UnicodeDecodeError as exc:
            return start + exc.start
    return None


def detect_encoding(raw: bytes | memoryview, *, encoding: str | None = None) -> str:
    """The text encoding of file bytes: ``encoding`` if given (checked), else UTF-8 with a
    BOM, UTF-16 with a BOM, UTF-8, or CP932 (Microsoft's Shift_JIS), in that order.

    Raises
    ------
    FileFormatError
        The bytes do not decode (the message gives the file line, never the content), or
        look like UTF-16 without a byte-order mark.

    Examples
    --------
    >>> detect_encoding("年齢".encode("utf-16"))
    'utf-16'
    >>> detect_encoding("年齢".encode("cp932"))
    'cp932'
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise FileFormatError(
                f"unknown encoding {encoding!r}. Fix: use e.g. 'utf-8' or 'cp932', or "
                "encoding=None to detect UTF-8 / CP932"
            ) from exc
        bad = _check_decodes(raw, encoding)
        if bad is not None:
            raise FileFormatError(
                f"cannot decode the file as {encoding!r} ({_decode_error(raw, bad, encoding)}). "
                "Fix: pass the right encoding, or encoding=None to detect UTF-8 / CP932"
            )
        return encoding
    head = bytes(raw[:4096])
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in head:
        raise FileFormatError(
            "the file contains NUL bytes: it looks like UTF-16 without a byte-order mark (or "
            "is not a text file). Fix: re-save it as UTF-8 or CP932, or pass "
            "encoding='utf-16-le' (or 'utf-16-be')"
        )
    else:
        candidates = ["utf-8", "cp932"]
    at = 0
    for enc in candidates:
        bad = _check_decodes(raw, enc)
        if bad is None:
            return enc
        at = max(at, bad)
    raise FileFormatError(
        f"the file is neither UTF-8 nor Shift_JIS/CP932 ({_decode_error(raw, at, 'text')}). "
        "Fix: re-save it as UTF-8 or CP932, or pass encoding= to read_checkups"
    )


def _sniff(raw: bytes, encoding: str | None) -> str:
    """:func:`detect_encoding` on the first megabyte (cut at a line end): the parser then
    decodes the rest, and a byte that does not decode there sends the caller back to the full
    check (:func:`_read_csv`), which names the line or finds the right encoding."""
    if len(raw) <= 1 << 20:
        return detect_encoding(raw, encoding=encoding)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # a UTF-16 line end is two bytes, at an even offset: cut after both
        nl = b"\n\x00" if raw.startswith(codecs.BOM_UTF16_LE) else b"\x00\n"
        cut = raw.rfind(nl, 0, 1 << 20)
        while cut > 0 and cut % 2:
            cut = raw.rfind(nl, 0, cut + 1)
        return detect_encoding(raw[: cut + 2 if cut > 0 else 1 << 20], encoding=encoding)
    cut = raw.rfind(b"\n", 0, 1 << 20)
    return detect_encoding(raw[: cut + 1 if cut > 0 else 1 << 20], encoding=encoding)


def _record_lines(text: str, sep: str) -> np.ndarray:
    """1-based line on which each data record starts (blank lines skipped, as pandas does)."""
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    prev = 0
    for rec in reader:
        if rec:
            starts.append(prev + 1)
        prev = reader.line_num
    return np.asarray(starts[1:], dtype=np.int64)  # first record is the header


def _field_count_lines(text: str, sep: str) -> tuple[int, list[int]]:
    """Header width and the 1-based lines of records with another number of fields."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    width = -1
    bad: list[int] = []
    prev = 0
    for rec in reader:
        if rec:
            if width < 0:
                width = len(rec)
            elif len(rec) != width:
                bad.append(prev + 1)
        prev = reader.line_num
    return width, bad


@dataclass
class _Raw:
    """A file as read: columns by position (headers as written), how rows are numbered, and
    the cells as written for the columns already parsed to numbers."""

    headers: list[str]
    columns: list[pd.Series]
    rows: np.ndarray
    numbering: str
    encoding: str = ""
    notes: list[DataProblem] = field(default_factory=list)
    text: dict[int, Any] = field(default_factory=dict)  # position -> pyarrow string array
    # position -> parsed numbers (int64: whole numbers, none missing; else float64)
    numbers: dict[int, np.ndarray] = field(default_factory=dict)
    lines: Callable[[], np.ndarray] | None = None  # record -> file line, when not row + 2

    def frame(self, names: Sequence[object]) -> pd.DataFrame:
        """The columns as one frame; the separate column arrays are released (the frame's
        own copies serve :meth:`cell_text` from then on)."""
        if self.columns:  # column by column: no copy into 2-D blocks (peak memory)
            df = pd.DataFrame(dict(enumerate(self.columns)), copy=False)
        else:
            df = pd.DataFrame(index=pd.RangeIndex(0))
        df.columns = pd.Index(list(names), dtype=object)
        self.columns = [df.iloc[:, j] for j in range(df.shape[1])]
        self.numbers = {}
        return df

    def cell_text(self, position: int, mask: np.ndarray) -> np.ndarray:
        """The cells where ``mask`` is true as written (numbers Arrow parsed: as numbers)."""
        if position not in self.text:
            return self.columns[position].to_numpy(dtype=object)[mask]
        import pyarrow as pa

        picked = self.text[position].filter(pa.array(mask))
        return np.asarray(picked.to_pylist(), dtype=object)


def _format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise FileFormatError(
                f"{path}: unknown format {fmt!r}. Fix: use one of {', '.join(FORMATS)}"
            )
        return fmt
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix not in _CSV_SUFFIXES:
        raise FileFormatError(
            f"{path}: unknown file type {suffix!r}; use .csv (or .tsv/.txt) or .parquet, or "
            "declare format = 'csv' / 'tsv' / 'parquet'"
        )
    return "tsv" if suffix == ".tsv" else "csv"


def _read_parquet(path: Path) -> _Raw:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types; its text never holds cell values
        raise FileFormatError(
            f"{path}: cannot read Parquet ({type(exc).__name__}). Fix: check that the file is a "
            "complete Parquet file"
        ) from exc
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise FileFormatError(
            f"{path}: column(s) {', '.join(repr(n) for n in nested)} hold lists or structures, "
            "not one value per cell. Fix: flatten them to one column per item before the "
            "evaluation (or leave them out of the extract)"
        )
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types
        raise FileFormatError(
            f"{path}: cannot read Parquet ({type(exc).__name__}). Fix: check that the file is a "
            "complete Parquet file"
        ) from exc
    # pandas stores an unnamed index as a column "__index_level_0__": not data. A named index
    # (an id column set as the index before saving) is data and is kept as a column
    meta = schema.pandas_metadata or {}
    index = {
        c
        for c in meta.get("index_columns", [])
        if isinstance(c, str) and c.startswith("__index_level_")
    }
    names = [n for n in table.column_names if n not in index]
    # column by column, without pandas' 2-D blocks: numbers without missing values stay in
    # Arrow's memory, text stays Arrow-backed (no copy into one block per type)
    columns = [table.column(n).to_pandas() for n in names]
    return _Raw(
        headers=names,
        columns=columns,
        rows=np.arange(1, table.num_rows + 1),
        numbering=_RECORDS,
    )


_COLUMN_NO = re.compile(r"CSV column #(\d+)")


def _arrow_csv(
    raw: bytes | _CsvFile | pa.Buffer,
    enc: str,
    sep: str,
    width: int,
    typed: set[int],
    skip: int,
    *,
    ints: Collection[int] = (),
    transcode: bool = False,
) -> tuple[Any, int]:
    """Parse with Arrow: the ``typed`` columns as numbers (those in ``ints`` as int64, the
    others as float64), the others as strings; ``skip`` header lines (0: the header is record
    0). Returns the table and the number of records whose field count differs from the
    header's. A typed column holding something other than a plain number (a whole number, for
    ``ints``) raises ``pyarrow.ArrowInvalid`` naming the column (the caller retries it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    n_bad = 0

    def invalid(_row: Any) -> str:  # counted here; located (by file line) afterwards
        nonlocal n_bad
        n_bad += 1
        return "skip"

    names = [f"f{j}" for j in range(width)]
    # Shift_JIS / CP932 / EUC-JP never use the bytes of the separator, quote or line end
    # inside a multi-byte character: Arrow splits the raw bytes itself (at UTF-8 speed) and only
    # the text columns are decoded afterwards. Other encodings are transcoded as Arrow reads.
    bytewise = not transcode and codecs.lookup(enc).name in _ASCII_SAFE
    arrow_enc = "utf8" if enc in ("utf-8", "utf-8-sig") or bytewise else enc
    # text with 64-bit offsets: the type of pandas' Arrow-backed text, so that the column
    # handed to pandas shares these buffers instead of being copied with wider offsets
    text_type = pa.large_binary() if bytewise else pa.large_string()
    types = {
        n: ((pa.int64() if j in ints else pa.float64()) if j in typed else text_type)
        for j, n in enumerate(names)
    }
    if isinstance(raw, _CsvFile):
        # None: never searched (a large file parsed whole, not in pieces): it may have quotes
        source, quoted = raw.source(), raw.has_quote is not False
    elif isinstance(raw, pa.Buffer):  # a piece of a file without quotes (_CsvFile.pieces)
        source, quoted = raw, False
    else:
        source, quoted = pa.py_buffer(raw), b'"' in raw
    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(column_names=names, encoding=arrow_enc, skip_rows=skip),
        parse_options=pacsv.ParseOptions(
            delimiter=sep,
            newlines_in_values=quoted,
            # raw bytes cannot be shown to a handler: a malformed row stops the byte-wise
            # parse, and the transcoding parse (_parse_typed) counts and locates it
            invalid_row_handler=None if bytewise else invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    if bytewise:
        table = pa.table(
            [c if j in typed else _decode_column(c, enc) for j, c in enumerate(table.columns)],
            names=names,
        )
    return table, n_bad


_ASCII_SAFE = frozenset({"cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213", "euc_jp"})


def _decode_column(col: Any, enc: str) -> Any:
    """A column of raw bytes as text. Plain ASCII (ids, numbers) is already UTF-8; otherwise
    each distinct value is decoded once (a column of codes such as 男/女 has a handful).
    Undecodable bytes raise ``UnicodeDecodeError`` (the caller then finds their line)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if arr.null_count < len(arr):
        offsets = cell_offsets(arr)
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        if bool((data >= 0x80).any()):
            enc_arr = pc.dictionary_encode(arr)
            words = [None if b is None else b.decode(enc) for b in enc_arr.dictionary.to_pylist()]
            text = pa.array(words, pa.large_string())
            decoded = pa.DictionaryArray.from_arrays(enc_arr.indices, text)
            return pa.chunked_array([decoded.dictionary_decode()])
    return pa.chunked_array([pc.cast(arr, pa.large_string())])


@dataclass
class _Parsed:
    """A CSV file's records as parsed: the typed columns as NumPy arrays, the others as
    compact Arrow text, the number of records and of records with another field count, and
    the float columns that hold ``nan`` or ``inf`` as written."""

    numbers: dict[int, np.ndarray]
    texts: dict[int, Any]
    n: int
    n_bad: int
    spelled: set[int]


@dataclass
class _Assembly:
    """The final columns, filled piece by piece: the typed columns as NumPy arrays (made on
    the first piece, with room for the whole file estimated from it), the text columns as
    each piece's compact Arrow arrays, and the float columns where ``nan`` or ``inf`` is written.
    Room in an array not written to is never touched (no memory used): the estimate is generous.
    """

    typed: set[int]
    ints: set[int]
    size: int  # bytes in the file (the first piece's share sizes the arrays)
    n: int = 0
    out: dict[int, np.ndarray] = field(default_factory=dict)
    spelled: set[int] = field(default_factory=set)  # float columns with nan or inf written
    text_parts: dict[int, list[Any]] = field(default_factory=dict)

    def add(self, table: Any, piece_bytes: int | None) -> None:
        """Append one parsed piece (``piece_bytes`` None: the whole file)."""
        import pyarrow.compute as pc

        n, m = self.n, table.num_rows
        if not self.out and self.typed:
            share = 1.0 if piece_bytes is None else piece_bytes / self.size
            cap = m if piece_bytes is None else int(m / max(share, 1e-9) * 1.05) + 1024
            for j in self.typed:
                self.out[j] = np.empty(cap, np.int64 if j in self.ints else np.float64)
        for j, col in enumerate(table.columns):
            if j not in self.typed:
                # compact now: the piece's chunks point into all of the parser's buffers
                self.text_parts.setdefault(j, []).append(col.combine_chunks())
                continue
            dst = self.out[j]
            if n + m > len(dst):  # the estimate was short (shorter lines further on)
                grown = np.empty(max(2 * len(dst), n + m), dst.dtype)
                grown[:n] = dst[:n]
                dst = self.out[j] = grown
            if col.null_count and dst.dtype == np.int64:  # missing cells: float64 from now on
                as_float = np.empty(len(dst), np.float64)
                as_float[:n] = dst[:n]
                dst = self.out[j] = as_float
            at = n
            for chunk in col.chunks:  # zero-copy views where no cell is missing
                dst[at : at + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
                at += len(chunk)
            # "nan" or "inf" written in the file (Arrow takes them for numbers): looked for now,
            # while Arrow parses the next piece, in bitmaps (no array of the column's length)
            if j not in self.ints and pc.all(pc.is_finite(col)).as_py() is False:
                self.spelled.add(j)
        self.n = n + m

    def result(self, n_bad: int) -> _Parsed:
        """The columns as parsed, trimmed to the records read, and the float columns that
        hold ``nan`` or ``inf`` as written."""
        import pyarrow as pa

        n = self.n
        numbers = {j: arr[:n] for j, arr in self.out.items()}
        texts = {}
        for j in list(self.text_parts):  # one column's pieces at a time are held twice (peak)
            parts = self.text_parts.pop(j)
            texts[j] = pa.chunked_array([parts[0] if len(parts) == 1 else pa.concat_arrays(parts)])
            del parts
        return _Parsed(numbers, texts, n, n_bad, self.spelled)


def _parse_pieces(
    raw: _CsvFile,
    enc: str,
    sep: str,
    width: int,
    typed: set[int],
    skip: int,
    ints: set[int],
    transcode: bool,
) -> _Parsed:
    """Parse the file piece by piece (:meth:`_CsvFile.pieces`; the whole file when it cannot
    be cut) and copy each piece's columns into the final arrays before the next is parsed.

    Why pieces: Arrow's working memory (the parsed fields, each block's columns) is then the
    size of a piece and is reused from one piece to the next, instead of the size of the file
    and fresh for every byte. Fresh memory is what costs: each new page is a fault, and on a
    virtual machine that has given its free memory back to the host, sometimes a slow one
    (benchmarks/loading_speed.py shows each run's time and system time). Parsing the next
    piece while this one is copied keeps both cores busy. A whole-number column without
    missing cells stays int64; one with any becomes float64."""
    import pyarrow as pa

    # a line end is byte 0x0A, never part of a character, in UTF-8 and the Japanese encodings
    # Arrow splits byte-wise (not in UTF-16, which is transcoded whole)
    cuttable = enc in ("utf-8", "utf-8-sig") or codecs.lookup(enc).name in _ASCII_SAFE
    pieces = raw.pieces() if skip == 1 and cuttable and not transcode else [None]
    columns = _Assembly(set(typed), set(ints), raw.size)
    n_bad = 0

    def parse(k: int) -> tuple[Any, int]:
        piece = pieces[k]
        if piece is not None and raw.has_quote is None and piece.has_quote():
            raise _QuoteFound
        parsed = _arrow_csv(
            raw if piece is None else piece.data,
            enc,
            sep,
            width,
            typed,
            skip if k == 0 else 0,
            ints=ints,
            transcode=transcode,
        )
        if piece is not None:
            piece.drop()
        return parsed

    # Arrow parses the next piece (in its threads, without the GIL) while this one is copied
    try:
        with ThreadPoolExecutor(max_workers=1) as ahead:
            pending = ahead.submit(parse, 0)
            for k, piece in enumerate(pieces):
                table, bad = pending.result()
                n_bad += bad
                if n_bad:  # the caller reports the records by file line: nothing to assemble
                    break
                if k + 1 < len(pieces):
                    pending = ahead.submit(parse, k + 1)
                columns.add(table, None if piece is None else len(piece))
                del table  # the piece's memory is free for the piece after next
    except _QuoteFound:  # a quoted cell may hold a line break: the file is parsed whole
        raw.has_quote = True
    if raw.has_quote and pieces[0] is not None:
        del columns, pieces  # (outside the handler: its traceback would keep them)
        return _parse_pieces(raw, enc, sep, width, typed, skip, ints, transcode)
    if pieces[0] is not None and not n_bad:
        raw.has_quote = False  # every piece was searched: a retry need not search again
    pa.default_memory_pool().release_unused()
    return columns.result(n_bad)


def _parse_typed(
    raw: _CsvFile, enc: str, sep: str, width: int, typed: set[int], skip: int, ints: set[int]
) -> _Parsed:
    """:func:`_parse_pieces`, retrying as float64 every whole-number column that holds another
    number (``40.0``, ``40.5``) and as text every typed column that Arrow cannot parse as
    numbers (text codes, ``1_30``, ``NA``) or that holds ``nan`` or ``inf`` (Arrow takes them
    for numbers; found when the numbers are assembled, ``_Parsed.spelled``): a missing-value
    spelling or an error, decided by the text rules."""
    import pyarrow as pa

    typed = set(typed)
    ints = set(ints) & typed
    transcode = False
    bytewise = codecs.lookup(enc).name in _ASCII_SAFE
    for _ in range(2 * width + 3):
        try:
            parsed = _parse_pieces(raw, enc, sep, width, typed, skip, ints, transcode)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            m = _COLUMN_NO.search(str(exc))
            if (m is None or int(m.group(1)) not in typed) and not transcode and bytewise:
                transcode = True  # the byte-wise parse stopped: the full route reports why
                continue
            if m is None or int(m.group(1)) not in typed:
                # Arrow's message quotes the offending row: report only its type
                raise FileFormatError(f"malformed CSV ({type(exc).__name__})") from exc
            col = int(m.group(1))
            if col in ints:
                ints.discard(col)  # not all whole numbers: read as float64, the checks decide
            else:
                typed.discard(col)
            continue
        if parsed.n_bad or not parsed.spelled:
            return parsed
        typed -= parsed.spelled
        del parsed
    raise FileFormatError("malformed CSV (columns could not be typed)")  # pragma: no cover


_HEAD = 1 << 20  # bytes of the file looked at to choose the columns Arrow parses as numbers
_PIECE = 12 << 20  # bytes parsed at a time (see _parse_pieces): 4-16 MB measured alike


def _numeric_in_head(
    raw: _CsvFile, enc: str, sep: str, width: int, typed: set[int], ints: set[int]
) -> tuple[set[int], set[int]]:
    """The ``typed`` columns whose cells in the first megabyte are all plain numbers, and
    those of ``ints`` whose cells there are all written as whole numbers (``40``, not
    ``40.0``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not typed or raw.size <= _HEAD:
        return typed, ints & typed  # a small file: a retry costs nothing
    cut = raw.head.rfind(b"\n")
    if cut <= 0:
        return typed, ints & typed
    try:
        head, _ = _arrow_csv(raw.head[: cut + 1], enc, sep, width, set(), skip=1)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return typed, ints & typed  # the full parse reports it
    numeric = {j for j in typed if _as_float(head.column(j)) is not None}
    whole = set()
    for j in ints & numeric:
        try:
            pc.cast(head.column(j), pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        whole.add(j)
    return numeric, whole


def _header_width(raw: _CsvFile, enc: str, sep: str) -> tuple[list[str], int, int]:
    """The header's cells, its width and the physical line it ends on."""
    head = raw.head
    text = head.decode(enc, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rec = next((r for r in reader if r), None)
    if rec is None:
        raise FileFormatError("the file is empty (no header line). Fix: export the header too")
    return rec, len(rec), reader.line_num


class _QuoteFound(Exception):
    """A piece holds a quote: the file is parsed again whole, quote-aware (_parse_pieces)."""


@dataclass(frozen=True)
class _Piece:
    """A stretch of the mapped file ending at a line end: ``data`` an Arrow buffer over it
    (no copy), ``start`` its offset in ``mapped``."""

    data: Any
    mapped: mmap.mmap
    start: int

    def __len__(self) -> int:
        return len(self.data)

    def has_quote(self) -> bool:
        # searched in the mapping Arrow then reads: the pages are brought in once
        return self.mapped.find(b'"', self.start, self.start + len(self.data)) >= 0

    def drop(self) -> None:
        """Let go of the piece's pages once it is parsed (Arrow's columns hold copies of its
        cells): mapped pages count in the process's memory, the whole file's by the last
        piece otherwise. The mapping and the system's file cache stay; a page read again is
        brought back from the cache."""
        page = mmap.PAGESIZE
        a = -(-self.start // page) * page  # the whole pages inside the piece
        b = (self.start + len(self.data)) // page * page
        if b > a and hasattr(mmap, "MADV_DONTNEED"):
            self.mapped.madvise(mmap.MADV_DONTNEED, a, b - a)


@dataclass
class _CsvFile:
    """A CSV file as the loader needs it without holding it in memory: its first megabyte
    (encoding, header, the columns' look) and its size. Arrow then parses the file from disk
    block by block, or from the mapped file piece by piece (:meth:`pieces`); the whole content
    is read again only to locate problems by file line."""

    path: Path
    head: bytes
    size: int
    # whether a quote (hence perhaps a quoted line break) occurs; None: not yet known (a file
    # cut into pieces: each piece is searched as it is parsed, beside the parse of another)
    has_quote: bool | None = True
    small: bytes | None = None  # the whole file when it fits in the head

    @classmethod
    def open(cls, path: Path) -> _CsvFile:
        with path.open("rb") as fh:
            first = fh.read(_HEAD + 1)
            if len(first) <= _HEAD:
                return cls(path, first, len(first), b'"' in first, small=first)
            size = path.stat().st_size
            if size >= 2 * _PIECE:  # cut into pieces (see pieces): searched piece by piece
                return cls(path, first, size, None)
            # searched in the mapped file, without copying it (a tenth of the time Arrow's
            # quote-aware chunking would add); the mapping is gone before any column is made
            try:
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    quoted = mm.find(b'"') >= 0
            except (OSError, ValueError):  # not mappable (a pipe, a special file): assume quotes
                quoted = True
        # one byte over the head: _sniff cuts it at a line end
        return cls(path, first, size, quoted)

    def source(self) -> Any:
        import pyarrow as pa

        if self.small is not None:
            return pa.py_buffer(self.small)
        return pa.input_stream(str(self.path), compression=None)

    def pieces(self) -> list[_Piece | None]:
        """The file as consecutive pieces, each ending at a line end, over the mapped file
        (no copy): :data:`_PIECE` bytes each, but the last, of about a third of that (its copy
        into the final columns is the one with no parse running beside it, so it is kept
        short). The whole file as one piece (``[None]``: read it from
        :meth:`source`) when it is small or has a quote, since a quoted cell may hold a line
        break, so a line end is not always a record end."""
        import pyarrow as pa

        if self.small is not None or self.has_quote or self.size < 2 * _PIECE:
            return [None]
        try:
            with self.path.open("rb") as fh:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # not mappable (a pipe, a special file): parse it whole
            self.has_quote = True
            return [None]
        size, short = len(mm), max(_PIECE // 3, 1)
        cuts = [0]
        while size - cuts[-1] > 2 * short:
            # the piece before the last leaves a short one
            near_end = size - cuts[-1] <= _PIECE + short
            want = size - short if near_end else cuts[-1] + _PIECE
            end = mm.find(b"\n", want - 1)
            if end < 0 or end + 1 >= size:
                break  # no line end after this point: the rest is one piece
            cuts.append(end + 1)
        cuts.append(size)
        whole = pa.py_buffer(mm)
        return [_Piece(whole.slice(a, b - a), mm, a) for a, b in itertools.pairwise(cuts)]

    def read_all(self) -> bytes:
        return self.small if self.small is not None else self.path.read_bytes()


def _line_numbers(raw: _CsvFile, enc: str, sep: str, n: int) -> np.ndarray:
    """The file line on which each of the ``n`` records starts; computed only when a problem
    must be shown. Without quotes, carriage returns or blank lines (trailing ones aside),
    record i is on line i + 2: a count of one byte settles that; otherwise the CSV reader
    walks the text."""
    data = raw.read_all()
    if enc != "utf-16" and b'"' not in data and b"\r" not in data:
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        if lines == n + 1 or not data[data.find(b"\n\n") :].strip(b"\n"):
            return np.arange(2, n + 2, dtype=np.int64)
    return _record_lines(data.decode(enc), sep)


def _read_csv(path: Path, sep: str, encoding: str | None, mapping: ColumnMapping | None) -> _Raw:
    try:
        raw = _CsvFile.open(path)
    except OSError as exc:
        raise FileFormatError(
            f"{path}: cannot read the file ({exc.strerror or type(exc).__name__}). Fix: check "
            "the path and its permissions"
        ) from exc
    try:
        used = _sniff(raw.head, encoding)
    except FileFormatError as exc:
        raise FileFormatError(f"{path}: {exc}") from exc
    try:
        return _parse_csv(path, raw, used, sep, mapping)
    except FileFormatError as exc:
        try:  # the whole file, checked: an undecodable byte is reported by its line ...
            full = detect_encoding(raw.read_all(), encoding=encoding)
        except FileFormatError as enc_exc:
            raise FileFormatError(f"{path}: {enc_exc}") from exc
        if full == used:
            raise
    return _parse_csv(path, raw, full, sep, mapping)  # ... or the file is CP932 after all


def _parse_csv(
    path: Path, raw: _CsvFile, used: str, sep: str, mapping: ColumnMapping | None
) -> _Raw:
    import pyarrow as pa

    try:
        header, width, header_lines = _header_width(raw, used, sep)
        typed: set[int] = set()
        ints: set[int] = set()
        if header_lines == 1:  # header on line 1: Arrow skips it and types the measurements
            try:
                names, _ = resolve_columns([h.strip() for h in header], mapping=mapping)
            except MappingError:
                names = []  # reported by _load, which resolves the headers again
            for j, name in enumerate(names):
                spec = _spec_for(name)
                if spec is not None and spec.numeric:
                    typed.add(j)
                    if spec.integer:  # years, ages, codes: Arrow parses whole numbers faster
                        ints.add(j)
            # coded columns (sex, dipstick, flags) are often text codes (男/女, ＋/−): a column
            # that is not all numbers in the file's first records is read as text at once,
            # sparing a second parse of the whole file
            typed, ints = _numeric_in_head(raw, used, sep, width, typed, ints)
        parsed = _parse_typed(
            raw, used, sep, width, typed, skip=1 if header_lines == 1 else 0, ints=ints
        )
    except FileFormatError as exc:
        raise FileFormatError(f"{path}: {exc}") from exc
    if parsed.n_bad:
        width, bad = _field_count_lines(raw.read_all().decode(used), sep)
        shown = ", ".join(str(b) for b in bad[:20]) + (", ..." if len(bad) > 20 else "")
        raise FileFormatError(
            f"{path}: {len(bad) or parsed.n_bad} row(s) do not have the {width} fields of the "
            f"header (file lines {shown}). A short row is a truncated record, not missing "
            "values. Fix: repair those lines (quote cells that contain the separator) and "
            "export again"
        )
    texts, n = parsed.texts, parsed.n
    if header_lines == 1:
        headers = [h.strip() for h in header]
    else:  # the header is the first record (every column read as text)
        headers = [
            "" if h is None else str(h).strip() for h in (texts[j][0].as_py() for j in range(width))
        ]
        texts = {j: pa.chunked_array([c.combine_chunks().slice(1)]) for j, c in texts.items()}
        n -= 1
    return _Raw(
        headers=headers,
        columns=[],
        rows=np.arange(2, n + 2, dtype=np.int64),
        numbering=_FILE_LINES,
        encoding=used,
        text=texts,
        numbers=parsed.numbers,
        # record i + 2 is a first guess; where a problem is shown, its true line is computed
        lines=lambda: _line_numbers(raw, used, sep, n),
    )


def _na_spellings(col: Any, header: str, notes: list[DataProblem]) -> Any:
    """The column with pandas' missing-value spellings as nulls; a note counts them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    textual = pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
    data = arr.buffers()[2] if textual else None
    if data is not None:
        low, high = byte_range(data)
        if low >= 0x30 and high <= 0x39:  # digits only (ids, codes): no spelling can be there
            return col
        text = data.to_pybytes()
        if b"#" not in text and b"N" not in text and b"n" not in text:
            return col  # every spelling has '#', 'N' or 'n': a byte search settles it
    is_na = pc.is_in(col, value_set=pa.array(NA_SPELLINGS, type=col.type))
    n_na = pc.sum(is_na).as_py() or 0
    if not n_na:
        return col
    spelled = pc.value_counts(col.filter(is_na)).to_pylist()
    desc = ", ".join(f"{d['values']!r} ({d['counts']})" for d in spelled)
    notes.append(
        DataProblem(
            column=header,
            kind="na_spelling",
            message=f"{n_na} cell(s) read as missing values: {desc}",
            severity="info",
        )
    )
    return pc.if_else(is_na, pa.scalar(None, col.type), col)


def _as_float(col: Any) -> np.ndarray | None:
    """The column as float64 when Arrow parses every non-empty cell as a finite number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if len(col) > 4096:  # a failing cast of a whole column is slow: try its start first
            pc.cast(col.slice(0, 4096), pa.float64())
        values = pc.cast(col, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # text in the column: the validation's text rules decide, cell by cell
    arr = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    nan = np.isnan(arr)
    if int(nan.sum()) != values.null_count or np.isinf(arr).any():
        return None  # "nan" / "inf" text: missing marker or an error, decided by the text rules
    return arr


def _columns(raw: _Raw, names: Sequence[object]) -> None:
    """Turn the parsed text into columns. A numeric vocabulary column that Arrow parses
    cleanly becomes float64 at once (no missing-value spelling can be in it); the others get
    the missing-value spellings and stay text for :mod:`pfseval.io.validation`'s rules."""
    if not raw.text and not raw.numbers:
        return
    for j, name in enumerate(names):
        if j in raw.numbers:  # parsed by Arrow as it read the file (made here: no copy)
            raw.columns.append(pd.Series(raw.numbers[j], copy=False))
            continue
        col = raw.text[j]
        spec = _spec_for(name)
        if spec is not None and spec.numeric:
            arr = _as_float(col)
            if arr is not None:
                raw.text.pop(j)  # the text copy goes (cell_text reads the numbers instead)
                raw.columns.append(pd.Series(arr, dtype=np.float64, copy=False))
                continue
        col = _na_spellings(col, raw.headers[j], raw.notes)
        raw.text[j] = col
        raw.columns.append(col.to_pandas())


def _remap_rows(report: ValidationReport, lines: np.ndarray) -> ValidationReport:
    """Rows numbered ``record + 2`` → the file line each record starts on."""
    problems = tuple(
        replace(p, rows=tuple(int(lines[r - 2]) for r in p.rows)) if p.rows else p
        for p in report.problems
    )
    return replace(report, problems=problems)


def _load(
    path: str | PathLike[str],
    mapping: ColumnMapping | None,
    encoding: str | None,
    required: Sequence[str],
    fmt: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, ValidationReport]:
    p = Path(path)
    kind = _format(p, fmt)
    if kind == "parquet":
        raw = _read_parquet(p)
    else:
        tab = kind == "tsv" or p.suffix.lower() == ".tsv"  # "csv": the suffix's separator
        raw = _read_csv(p, "\t" if tab else ",", encoding, mapping)
    names, map_problems = resolve_columns(raw.headers, mapping=mapping)
    origin = {str(n): str(h) for n, h in zip(names, raw.headers, strict=True)}
    _columns(raw, names)
    renamed = raw.frame(names)
    converted, report = _parse_checkups(
        renamed,
        source=str(p),
        row_numbers=raw.rows,
        row_numbering=raw.numbering,
        required=required,
        cell_text=raw.cell_text if raw.text or raw.numbers else None,
        own_input=True,  # read_checkups returns `renamed` columns only where problems are
    )
    if raw.lines is not None and any(q.rows for q in report.problems):
        report = _remap_rows(report, raw.lines())
    notes = [*map_problems, *raw.notes]
    if raw.encoding:
        notes.append(
            DataProblem(
                column="", kind="encoding", message=f"decoded as {raw.encoding}", severity="info"
            )
        )
    report = ValidationReport(
        problems=(*report.problems, *notes),
        n_rows=report.n_rows,
        source=report.source,
        row_numbering=report.row_numbering,
        columns=origin,
    )
    return renamed, converted, report


def read_checkups(
    path: str | PathLike[str],
    *,
    mapping: ColumnMapping | None = None,
    encoding: str | None = None,
    validate: bool = True,
    required: Sequence[str] = REQUIRED_COLUMNS,
    format: str | None = None,
) -> pd.DataFrame:
    """Read a health-check extract (CSV or Parquet) onto the canonical vocabulary.

    Parameters
    ----------
    path
        ``.csv`` (also ``.txt``; ``.tsv`` is tab-separated) or ``.parquet`` file.
    mapping
        Source header → canonical name, as a dict or the path of a TOML/CSV mapping file
        (:func:`pfseval.io.load_mapping`). Headers not in the mapping are matched against the
        vocabulary aliases (Japanese headers such as 収縮期血圧 and ＨｂＡ１ｃ are recognised).
        Unknown extra columns are kept unchanged.
    encoding
        CSV text encoding; ``None`` detects UTF-8 (with or without BOM), UTF-16 (with a BOM)
        or CP932/Shift_JIS.
    validate
        When ``True`` (default) raise :class:`~pfseval.errors.DataValidationError` listing
        every problem if there is any error, and issue :class:`DataQualityWarning` for
        warnings. When ``False`` nothing is raised; a column that contains cells which cannot
        be converted is then returned as the original text, unchanged (call
        :func:`check_file` for the report).
    required
        Columns that must be present and complete (default: person_id, fiscal_year, age,
        sex); e.g. ``("person_id",)`` for a wide programme table without fiscal_year.
    format
        ``"csv"`` (delimited text: tab-separated for a ``.tsv`` file, else comma), ``"tsv"``
        or ``"parquet"``; ``None`` (default) decides by the suffix. A declared format wins over
        the suffix (a ``.dat`` export read as CSV).

    Returns
    -------
    pandas.DataFrame
        One row per record in file order: ids and codes as text, whole-number columns
        (fiscal_year, age, sex, dipstick, flags) as ``Int64``, measurements as ``float64``.

    Raises
    ------
    DataValidationError
        ``validate=True`` and the data have errors (all are listed, with file line numbers).
    FileFormatError
        The file cannot be decoded or parsed (rows with the wrong number of fields are listed
        by file line), a Parquet column holds lists, or its type is unknown. The message
        names the file and never quotes its content.
    MappingError
        The mapping is malformed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "kenshin.csv"
    >>> _ = p.write_bytes("受診者ID,年度,年齢,性別,収縮期血圧,ＨｂＡ１ｃ,尿蛋白\\n"
    ...                   "0001,2019,63,男,142,6.9,＋\\n".encode("cp932"))
    >>> df = read_checkups(p)
    >>> df.columns.tolist()
    ['person_id', 'fiscal_year', 'age', 'sex', 'sbp', 'hba1c', 'urine_protein']
    >>> df.loc[0, "person_id"], int(df.loc[0, "sex"]), int(df.loc[0, "urine_protein"])
    ('0001', 1, 2)
    """
    renamed, converted, report = _load(path, mapping, encoding, required, format)
    if validate:
        report.raise_for_errors()
        warn([problem_notice(w, source=Path(path).name) for w in report.warnings])
        return converted
    out = converted.copy()
    bad_cols = {p.column for p in report.problems if p.kind in ("wrong_type", "unknown_code")}
    for col in bad_cols:
        if col in out.columns:
            out[col] = renamed[col]
    return out


def check_file(
    path: str | PathLike[str],
    *,
    mapping: ColumnMapping | None = None,
    required: Sequence[str] = REQUIRED_COLUMNS,
    encoding: str | None = None,
    format: str | None = None,
) -> ValidationReport:
    """Validate a health-check file and return the report (never raises for data problems).

    Unreadable files and malformed mappings are reported as a single ``unreadable`` error so
    that ``pfseval check-data`` can print them.

    Parameters
    ----------
    path
        CSV or Parquet file (as for :func:`read_checkups`).
    mapping
        Dict or TOML/CSV mapping file.
    required
        Columns that must be present and complete (as for :func:`read_checkups`).
    encoding, format
        As for :func:`read_checkups`.

    Returns
    -------
    ValidationReport
        Every problem, with 1-based file line numbers for CSV.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.csv"
    >>> _ = p.write_text("person_id,fiscal_year,age,sex\\nA,2019,45,X\\n", encoding="utf-8")
    >>> report = check_file(p)
    >>> report.ok, report.errors[0].rows
    (False, (2,))
    """
    try:
        _, _, report = _load(path, mapping, encoding, required, format)
    except (FileFormatError, MappingError) as exc:
        return ValidationReport(
            problems=(DataProblem(column="", kind="unreadable", message=str(exc)),),
            n_rows=0,
            source=str(path),
        )
    return report
