"""`python -m extract.search "QUERY"`: keyword search over the documents for retrieval
(enr_property_documents) in the DuckDB warehouse, ranked by BM25 (DuckDB's full-text search).

The index is built by this command: when it is missing, or when the documents changed since it
was built (their count or latest update differ from those recorded with it), it is rebuilt
before the query (the first search after a build pays for it; the demo builds it at once);
`--reindex` rebuilds it alone. The fts extension comes from the
duckdb-extension-fts package (loaded from its file: nothing is downloaded). On BigQuery, search
the embeddings with VECTOR_SEARCH instead (README, "Documents for retrieval")."""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from extract.cli import Parser, report, unexpected
from extract.errors import ConfigError, UserError
from extract.kinds import KINDS
from extract.progress import event, requested_format, setup_logging
from extract.runner import user_error
from extract.settings import Settings, load_settings
from extract.sources.registry import SOURCES

DOCUMENTS = "enr_property_documents"
STATE = "built_from"  # beside the index: what it was built from


@dataclass(frozen=True)
class Hit:
    """One ranked document."""

    rank: int
    document_id: str
    score: float
    kind: str
    title: str


def fts_extension() -> Path:
    """The fts extension's file for this DuckDB, from the duckdb-extension-fts package."""
    try:
        import duckdb_extension_fts
    except ImportError:
        raise ConfigError("the duckdb-extension-fts package is missing: run scripts/install.sh") from None
    path = (
        Path(str(importlib.resources.files(duckdb_extension_fts)))
        / "extensions"
        / f"v{duckdb.__version__}"
        / "fts.duckdb_extension"
    )
    if not path.is_file():
        raise ConfigError(f"duckdb-extension-fts has no build for DuckDB {duckdb.__version__}: reinstall")
    return path


class Index:
    """The full-text index of the documents in one DuckDB warehouse (`schema`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str) -> None:
        self.con = con
        self.schema = schema
        self.table = f"{schema}.{DOCUMENTS}"
        self.index_schema = f"fts_{schema}_{DOCUMENTS}"
        con.execute("set enable_progress_bar = false")  # stdout holds the hits alone
        con.execute(f"load '{fts_extension()}'")

    def documents_state(self) -> tuple[int, str | None]:
        """(count, latest updated_at) of the documents: changes whenever a document does."""
        try:
            count, latest = self.con.execute(
                f"select count(*), cast(max(updated_at) as varchar) from {self.table}"
            ).fetchone()
        except duckdb.CatalogException:
            raise ConfigError(
                f"no {self.table} in the warehouse: run the job (or `dbt build`) first"
            ) from None
        return count, latest

    def built_state(self) -> tuple[int, str | None] | None:
        """What the index was built from, or None when there is no index."""
        try:
            state = f"select documents, latest_update from {self.index_schema}.{STATE}"
            return self.con.execute(state).fetchone()
        except duckdb.CatalogException:
            return None

    def is_current(self) -> bool:
        return self.built_state() == self.documents_state()

    def build(self) -> float:
        """(Re)builds the index over content (which holds what the title says; Porter stemmer,
        English stop words); seconds."""
        started = time.perf_counter()
        documents, latest = self.documents_state()
        self.con.execute(f"pragma create_fts_index('{self.table}', 'document_id', 'content', overwrite=1)")
        self.con.execute(
            f"create table {self.index_schema}.{STATE} as "
            "select ?::bigint as documents, ?::varchar as latest_update",
            [documents, latest],
        )
        return time.perf_counter() - started

    def search(self, query: str, kind: str | None, limit: int) -> list[Hit]:
        """The best `limit` documents for `query` (of `kind`), best first: those holding every word
        of the query (the query as a phrase first), then those holding some, each by BM25 score;
        ties by document_id."""
        found = self._ranked(query, kind, limit, conjunctive=True)
        if len(found) < limit:
            seen = {row[0] for row in found}
            more = self._ranked(query, kind, limit + len(found), conjunctive=False)
            found += [row for row in more if row[0] not in seen][: limit - len(found)]
        return [Hit(n, d, round(s, 6), k, t) for n, (d, s, k, t) in enumerate(found, start=1)]

    def _ranked(self, query: str, kind: str | None, limit: int, conjunctive: bool) -> list[tuple]:
        return self.con.execute(
            f"""
            with scored as (
                select
                    documents.document_id,
                    documents.kind,
                    documents.title,
                    {self.index_schema}.match_bm25(
                        documents.document_id, $query, conjunctive := $conjunctive
                    ) as score
                from {self.table} as documents
                where $kind is null or documents.kind = $kind
            ),

            best as (
                -- the best by score; only these are read for the phrase
                select * from scored where score is not null order by score desc, document_id limit $pool
            )

            select best.document_id, best.score, best.kind, best.title
            from best
            inner join {self.table} as documents on best.document_id = documents.document_id
            order by
                strpos(lower(documents.content), lower($query)) > 0 desc, best.score desc, best.document_id
            limit $limit
            """,
            {
                "query": query,
                "kind": kind,
                "limit": limit,
                "pool": max(200, 20 * limit),
                "conjunctive": int(conjunctive),
            },
        ).fetchall()


def positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {text!r}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m extract.search", description=__doc__)
    parser.add_argument("query", nargs="?", help="words to look for, e.g. 'loft insulation'")
    parser.add_argument("--kind", choices=tuple(KINDS), help="only documents of this kind")
    parser.add_argument("--limit", type=positive, default=10, help="how many hits (default 10)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="how hits are printed")
    parser.add_argument("--reindex", action="store_true", help="rebuild the index (then search, if asked)")
    parser.add_argument("--env-file", type=Path, help="KEY=VALUE settings file (as for python -m extract)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    if args.query is not None and not args.query.strip():
        raise ConfigError("the query is empty: give the words to look for")
    if args.query is None and not args.reindex:
        raise ConfigError("give a query (python -m extract.search 'loft insulation'), or --reindex")
    return args


def warehouse(settings: Settings) -> tuple[Path, str]:
    """The DuckDB file and the schema dbt builds in (DBT_SCHEMA, else BQ_DATASET); ConfigError
    for BigQuery or a missing file."""
    if settings.destination != "duckdb":
        raise ConfigError(
            "search runs on the DuckDB warehouse; on BigQuery use VECTOR_SEARCH over the embeddings "
            "(README, Documents for retrieval)"
        )
    if not settings.duckdb_path.is_file():
        raise ConfigError(f"no DuckDB warehouse at {settings.duckdb_path}: run the job first (DUCKDB_PATH)")
    return settings.duckdb_path, os.environ.get("DBT_SCHEMA") or settings.dataset


def refresh(path: Path, schema: str, force: bool = False) -> tuple[int, float] | None:
    """Rebuilds the index of the warehouse at `path` when it is missing or stale (or `force`):
    (documents indexed, seconds), else None."""
    if not force:
        with duckdb.connect(str(path), read_only=True) as con:
            if Index(con, schema).is_current():
                return None
    with duckdb.connect(str(path)) as con:
        index = Index(con, schema)
        seconds = index.build()
        documents, _ = index.documents_state()
    event(f"search index: {documents:,} documents in {seconds:.1f} s", documents=documents, seconds=seconds)
    return documents, seconds


def run(args: argparse.Namespace) -> int:
    path, schema = warehouse(load_settings(args.env_file, sources=SOURCES))
    refresh(path, schema, force=args.reindex)
    if args.query:
        with duckdb.connect(str(path), read_only=True) as con:
            return show(Index(con, schema).search(args.query, args.kind, args.limit), args.format)
    return 0


def show(hits: list[Hit], form: str) -> int:
    if form == "json":
        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False))
    else:
        for hit in hits:
            print(f"{hit.rank:>3}  {hit.score:9.4f}  {hit.document_id}  {hit.title}")
        if not hits:
            print("no document matches", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    setup_logging(requested_format(sys.argv[1:] if argv is None else argv))
    try:
        args = parse_args(argv)
        setup_logging(args.log_format)
        return run(args)
    except UserError as exc:
        return report(exc)
    except Exception as exc:  # a warehouse in use by another process, a place that cannot be read
        if translated := user_error(exc):
            return report(translated)
        return unexpected(exc)


if __name__ == "__main__":
    sys.exit(main())
