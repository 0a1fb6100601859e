"""Intake: read CSV, XLSX, JSON and OHCHR-export files row by row; accept or quarantine each row."""

from triage.intake._ingest import QUARANTINE_COLUMNS, IngestResult, ingest_file
from triage.intake._spec import FIELDS, SHAPES, FieldSpec

__all__ = ["FIELDS", "QUARANTINE_COLUMNS", "SHAPES", "FieldSpec", "IngestResult", "ingest_file"]
