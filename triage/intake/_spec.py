"""The row contract of intake files, declared once: every column, its kind, its limits.

A file is one of four shapes, told apart by its columns:

- ``submissions``: a submission or queue file (``queue.csv``/``submissions.csv`` shape); id is
  ``submission_id`` or ``case_id``.
- ``cases``: the generator's ``cases.csv`` shape (a case inside a communication).
- ``communications``: the generator's ``communications.csv`` shape.
- ``ohchr``: the OHCHR communications-report export (Date, Country, Type, Ref. no., ...),
  mapped onto the ``communications`` columns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from triage.schema import CASES_COLUMNS, COMMUNICATIONS_COLUMNS, QUEUE_COLUMNS

__all__ = [
    "ALIASES",
    "FIELDS",
    "OHCHR_COLUMNS",
    "OHCHR_REQUIRED",
    "SHAPES",
    "FieldSpec",
    "Kind",
    "Shape",
    "ShapeSpec",
    "normalise_column",
]

Kind = Literal["id", "date", "country", "region", "gender", "codes", "code", "bool", "int", "text"]
Shape = Literal["submissions", "cases", "communications", "ohchr"]


@dataclass(frozen=True)
class FieldSpec:
    """One column of the row contract.

    ``vocabulary`` names a ``triage.schema`` code list for ``code``/``codes`` columns;
    ``sensitive`` values are stored but never shown in reports or logs.
    """

    kind: Kind
    max_length: int = 200
    vocabulary: str | None = None
    sensitive: bool = False
    minimum: int = 0
    maximum: int = 1_000


#: Every column any shape may carry (canonical names, as in the history contract).
FIELDS: Final[Mapping[str, FieldSpec]] = MappingProxyType(
    {
        "submission_id": FieldSpec("id", max_length=64),
        "case_id": FieldSpec("id", max_length=64),
        "communication_id": FieldSpec("id", max_length=64),
        "individual_id": FieldSpec("id", max_length=64),
        "received_date": FieldSpec("date"),
        "sent_date": FieldSpec("date"),
        "reply_date": FieldSpec("date"),
        "last_incident_date": FieldSpec("date"),
        "defender_name": FieldSpec("text", max_length=200, sensitive=True),
        "source_contact": FieldSpec("text", max_length=300, sensitive=True),
        "summary": FieldSpec("text", max_length=10_000, sensitive=True),
        "country": FieldSpec("country", max_length=100),
        "un_region": FieldSpec("region", max_length=100),
        "gender": FieldSpec("gender", max_length=20),
        "violations": FieldSpec("codes", max_length=1_000, vocabulary="VIOLATIONS"),
        "issue_areas": FieldSpec("codes", max_length=1_000, vocabulary="ISSUE_AREAS"),
        "protester": FieldSpec("bool", max_length=10),
        "eligible": FieldSpec("bool", max_length=10),
        "type": FieldSpec("code", max_length=40, vocabulary="COMM_TYPES"),
        "addressee": FieldSpec("code", max_length=40, vocabulary="ADDRESSEES"),
        "reply_class": FieldSpec("code", max_length=80, vocabulary="REPLY_CLASSES"),
        "n_mandates": FieldSpec("int", max_length=10, minimum=1, maximum=100),
        "n_individuals": FieldSpec("int", max_length=10, minimum=0, maximum=10_000),
    }
)

#: Other spellings of column names seen in hand-made files (after ``normalise_column``).
ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "id": "submission_id",
        "date_received": "received_date",
        "received": "received_date",
        "date_sent": "sent_date",
        "iso3": "country",
        "country_code": "country",
        "region": "un_region",
        "un_regional_group": "un_region",
        "sex": "gender",
        "name": "defender_name",
        "defender": "defender_name",
        "contact": "source_contact",
        "source": "source_contact",
        "issue_area": "issue_areas",
        "violation": "violations",
    }
)


@dataclass(frozen=True)
class ShapeSpec:
    """The columns of one file shape: the id column, required and optional columns."""

    id_column: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column this shape keeps, required first."""
        return (*self.required, *self.optional)


def _shape(
    id_column: str, required: tuple[str, ...], contract: tuple[str, ...], *extra: str
) -> ShapeSpec:
    """A file shape: the required columns, then the rest of its table contract, then extras."""
    optional = tuple(c for c in contract if c not in required)
    return ShapeSpec(id_column=id_column, required=required, optional=(*optional, *extra))


#: The columns of each file shape come from the table contracts (``triage.schema``): a
#: submissions file is a queue row that may also say whether it was eligible and, when it was
#: already decided, when its communication was sent and replied to.
SHAPES: Final[Mapping[str, ShapeSpec]] = MappingProxyType(
    {
        "submissions": _shape(
            "submission_id",
            ("submission_id", "received_date", "country"),
            QUEUE_COLUMNS,
            "eligible",
            "sent_date",
            "reply_date",
            "reply_class",
        ),
        "cases": _shape(
            "case_id", ("case_id", "communication_id", "sent_date", "country"), CASES_COLUMNS
        ),
        "communications": _shape(
            "communication_id",
            ("communication_id", "sent_date", "type", "country"),
            COMMUNICATIONS_COLUMNS,
            "summary",
        ),
    }
)

#: The OHCHR communications-report export: its column → what it becomes. ``None`` columns are
#: read for checks but not stored on their own.
OHCHR_COLUMNS: Final[Mapping[str, str | None]] = MappingProxyType(
    {
        "Date": "sent_date",
        "Country": "country",
        "Type": "type",
        "Ref. no.": "communication_id",
        "Mandates": "n_mandates",
        "Summary": "summary",
        "UN Region": "un_region",
        "OHCHR Region": None,
        "Nb. of alleged victims": "n_individuals",
        "Nb. of replies": None,
        "Replies": None,
    }
)
OHCHR_REQUIRED: Final = ("Date", "Country", "Type", "Ref. no.")

_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_column(name: str) -> str:
    """Match column names case-insensitively with spaces trimmed: ``" Case ID"`` → ``case_id``."""
    text = str(name).replace("\ufeff", "").replace("\u200b", "")
    return _SEPARATORS.sub("_", text.strip().lower()).strip("_")
