"""The raw-table contract: the columns, key and clustering of every raw table, in one place.

A raw row is the record exactly as the source returned it, in `payload` (nothing flattened), with
the few columns the warehouse partitions and clusters on lifted out beside it. Every writer reads
this module: the dlt resources take their column hints from it, both bulk engines render their
DDL from it, and a test holds dbt's source definitions to it. Each source declares its own tables
with `RawTable` (in its folder); the shape is the same for all.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlt.common.schema.typing import TTableSchemaColumns

from extract.kinds import Kind


@dataclass(frozen=True)
class Column:
    """A raw column, typed in dlt's vocabulary (`text`, `date`, `json`, `timestamp`)."""

    name: str
    data_type: str
    nullable: bool = True


# the columns dlt adds to every table it loads; bulk loads fill them too, so both paths merge
LOAD_ID = Column("_dlt_load_id", "text", nullable=False)
ROW_ID = Column("_dlt_id", "text", nullable=False)
PARTITION_COLUMN = "lodgement_date"  # BigQuery partitions every raw table by its month


# what a record of the register is found by in the warehouse: partition and clustering columns
LIFTED = (Column("lodgement_date", "date"), Column("postcode", "text"), Column("uprn", "text"))


@dataclass(frozen=True)
class RawTable:
    """A raw table: `key` identifies its records (a certificate's recommendations share the
    certificate's key and are replaced as a set), `lifted` are the columns read out of each record
    for partitioning and clustering, `extra` further columns (text, or a `Column` of another type),
    `cluster` the BigQuery clustering columns."""

    name: str
    key: str
    extra: tuple[str | Column, ...] = ()
    cluster: tuple[str, ...] = ()
    lifted: tuple[Column, ...] = LIFTED

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns a writer fills, in their order (dlt adds `_dlt_load_id` and `_dlt_id`)."""
        return (
            Column(self.key, "text", nullable=False),
            *self.lifted,
            Column("payload", "json"),
            Column("extracted_at", "timestamp"),
            *(c if isinstance(c, Column) else Column(c, "text") for c in self.extra),
        )

    @property
    def clustering(self) -> tuple[str, ...]:
        return self.cluster or (self.key,)

    @property
    def partitioned(self) -> bool:
        """Whether BigQuery partitions it by lodgement month (tables of dated records)."""
        return any(c.name == PARTITION_COLUMN for c in self.lifted)

    def dlt_columns(self) -> TTableSchemaColumns:
        """dlt column hints for the table."""
        return {c.name: {"data_type": c.data_type, "nullable": c.nullable} for c in self.columns}


def certificates_table(name: str, key: str, kind: Kind, extra: tuple[str | Column, ...] = ()) -> RawTable:
    """A table of certificates of `kind`, clustered by its key and the kind's extra columns."""
    return RawTable(name, key, extra, cluster=(key, *kind.cluster_extra))
