"""Keeping defenders' names and sources' contacts out of free text that others will read.

``check_free_text`` is called before any such text is stored (override reasons, policy names
and descriptions, display names). It refuses text that holds any defender name or source
contact known to the registry, whatever the case, diacritics, punctuation or word order, or
two words of a longer name (a "partial full name"); and any e-mail address or phone number,
spelled out ("x at example dot org") or not. The refusal never repeats what it found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from triage.errors import TriageError

__all__ = [
    "NameIndex",
    "check_free_text",
    "find_sensitive",
    "name_index",
    "normalise",
    "withhold",
]

#: Words that are part of many names and say nothing alone (and the simulator's name tag).
_PARTICLES = frozenset(
    [
        "de",
        "la",
        "le",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "da",
        "di",
        "du",
        "dos",
        "das",
        "do",
        "el",
        "al",
        "bin",
        "ben",
        "ibn",
        "y",
        "e",
        "mr",
        "mrs",
        "ms",
        "dr",
        "simulated",
    ]
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_SPELLED_EMAIL = re.compile(
    r"[\w.+-]+\s*(?:\(at\)|\[at\]|\{at\}|\sat\s|\s+arroba\s+|\s@\s|@\s|\s@)\s*"
    r"[\w-]+(?:(?:\.|\s*\(dot\)\s*|\s*\[dot\]\s*|\s+dot\s+)[\w-]+)*"
    r"(?:\.|\s*\(dot\)\s*|\s*\[dot\]\s*|\s+dot\s+)[a-z]{2,}\b",
    re.IGNORECASE | re.UNICODE,
)
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d(?:[\s().\-/]{0,2}\d){6,16}(?![\w])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A range of years ("2010-2015", "1998 / 2004"), not a phone number.
_YEARS = re.compile(r"(?:19|20)\d\d\s?[-/]\s?(?:19|20)\d\d")
#: A decimal or a number with thousands separators, not a phone number.
_NUMBER = re.compile(r"\d+[.,]\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def normalise(text: str) -> str:
    """Fold ``text`` for comparison: no diacritics, lower case, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+|_", " ", plain).split())


def _tokens(text: str) -> list[str]:
    return normalise(text).split()


#: An apostrophe or hyphen inside a word: "O'Brien", "Pérez-Núñez" are also one word.
_INNER_MARK = re.compile(r"(?<=\w)['’`\-](?=\w)")
#: Joins many texts into one string for the batch folds below; never a word character.
_SEP = "\x00"


def _map_text(sub: Any, texts: list[str]) -> list[str]:
    """``sub("", text)`` for each text, in one pass over the texts joined (C speed)."""
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1 or not texts:
        return [sub("", t) for t in texts]  # a text holds the separator itself
    return sub("", joined).split(_SEP)


def _tokens_many(texts: list[str]) -> list[list[str]]:
    """``_tokens(text)`` for each text, folded in one pass over the texts joined.

    A registry holds hundreds of thousands of names; folding each alone took seconds of a
    selection run. Every step of ``normalise`` maps characters one by one (NFKD decomposes
    each character and only reorders marks after a base character, which the separator is;
    casefold is context-free), so folding the joined text and splitting it at the separator
    gives each text's own tokens; a property test holds the two to the same answer.
    """
    joined = _SEP.join(texts)
    if not texts or joined.count(_SEP) != len(texts) - 1:
        return [_tokens(t) for t in texts]
    decomposed = unicodedata.normalize("NFKD", joined)
    marks = {ord(c): None for c in set(decomposed) if unicodedata.combining(c)}
    plain = decomposed.translate(marks).casefold()
    spaced = re.sub(r"[^\w\x00]+|_", " ", plain)
    return [part.split() for part in spaced.split(_SEP)]


class NameIndex:
    """Every name and contact of the registry as token sets, looked up by token."""

    def __init__(
        self,
        names: Iterable[Any],
        contacts: Iterable[Any],
        *,
        for_texts: Iterable[str] | None = None,
    ) -> None:
        """Index ``names`` and ``contacts``; with ``for_texts``, only the names that share a
        word with one of those texts (no other name can be found in them: ``hits`` and
        ``appears_in`` need at least one word of a name), which saves indexing them all."""
        self.entries: list[tuple[frozenset[str], int]] = []
        self.by_token: dict[str, list[int]] = {}
        self.digits: set[str] = set()
        texts = [str(v) for v in names if v is not None and str(v).strip()]
        # Each name as given and, with an inner apostrophe or hyphen, also as one word
        # ("O'Brien" -> "OBrien"), the joined form first.
        forms: list[str] = []
        for text, joined in zip(texts, _map_text(_INNER_MARK.sub, texts), strict=True):
            if joined != text:
                forms.append(joined)
            forms.append(text)
        folded = _tokens_many(forms)
        if for_texts is not None:
            words = {t for text in for_texts for t in _tokens(text)}
            folded = [tokens for tokens in folded if not words.isdisjoint(tokens)]
        for tokens in folded:
            self._add_word_tokens(tokens)
        for value in contacts:
            self._add_contact(value)

    def _add(self, tokens: frozenset[str], need: int) -> None:
        if not tokens:
            return
        index = len(self.entries)
        self.entries.append((tokens, need))
        for token in tokens:
            self.by_token.setdefault(token, []).append(index)

    def _add_word_tokens(self, tokens: list[str]) -> None:
        words = [t for t in tokens if t not in _PARTICLES and not t.isdigit()]
        words = [t for t in words if len(t) >= 2]
        if not words:
            return
        if len(words) == 1:
            # A single-word name: long enough not to be a common word (two or more characters
            # suffice in scripts without case, where names are often written as one word).
            word = words[0]
            if len(word) >= 4 or (len(word) >= 2 and not word.isascii() and word == word.upper()):
                self._add(frozenset(words), 1)
            return
        # The whole name in any order, or any two of its words (first and last name of a
        # longer name, "Last, First", a surname with one given name).
        self._add(frozenset(words), 2)

    def _add_contact(self, value: Any) -> None:
        if value is None or not str(value).strip():
            return
        text = str(value)
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 7 and not re.search(r"[A-Za-z]", text):
            self.digits.add(digits)
            return
        words = frozenset(t for t in _tokens(text.replace("@", " ")) if len(t) >= 2)
        if words:
            self._add(words, len(words))

    def appears_in(self, text: str) -> bool:
        """True when a whole name (either order) or contact appears as a phrase in ``text``
        (for long documents, where any two words of a name may occur apart by chance)."""
        folded = f" {normalise(text)} "
        for tokens, need in self.entries:
            words = sorted(tokens)
            if need == 1 or len(words) == 1:
                if f" {words[0]} " in folded:
                    return True
                continue
            if all(f" {w} " in folded for w in words):
                # Each pair of words of the name, adjacent in either order, counts.
                for a in words:
                    for b in words:
                        if a != b and f" {a} {b} " in folded:
                            return True
        return any(d in re.sub(r"\D", "", text) for d in self.digits) if self.digits else False

    def hits(self, text: str) -> bool:
        """True when ``text`` holds a name or contact of the index."""
        present = set(_tokens(text))
        counts: dict[int, int] = {}
        for token in present:
            for index in self.by_token.get(token, ()):
                counts[index] = counts.get(index, 0) + 1
        for index, count in counts.items():
            tokens, need = self.entries[index]
            if count >= min(need, len(tokens)):
                return True
        if self.digits:
            flat = re.sub(r"\D", "", text)
            if any(d in flat for d in self.digits):
                return True
        return False


def find_sensitive(text: str, index: NameIndex | None = None) -> str | None:
    """Return what kind of sensitive thing ``text`` holds ("a name", "an e-mail address",
    "a phone number"), or None. Never the thing itself."""
    value = str(text or "")
    if _EMAIL.search(value) or _SPELLED_EMAIL.search(normalise_spaces(value)):
        return "an e-mail address"
    for match in _PHONE.finditer(value):
        found = match.group(0).strip()
        if _DATE.fullmatch(found) or _NUMBER.fullmatch(found) or _YEARS.fullmatch(found):
            continue
        if len(re.sub(r"\D", "", found)) >= 7:
            return "a phone number"
    if index is not None and index.hits(value):
        return "a defender's name or a source's contact"
    return None


def normalise_spaces(text: str) -> str:
    """Unicode-fold ``text`` (NFKC) and collapse whitespace, keeping punctuation."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def name_index(registry: Any, *, for_texts: Iterable[str] | None = None) -> NameIndex:
    """Build the index of every defender name and source contact in the registry (with
    ``for_texts``, of the names that share a word with those texts; see ``NameIndex``)."""
    try:
        from sqlalchemy import inspect, select

        from triage.registry import Submission
        from triage.registry._models import Individual
    except ImportError:  # pragma: no cover
        return NameIndex((), ())
    engine = registry.engine
    tables = set(inspect(engine).get_table_names())
    names: list[Any] = []
    contacts: list[Any] = []
    with engine.connect() as conn:
        if Submission.__tablename__ in tables:
            for name, contact in conn.execute(
                select(Submission.defender_name, Submission.source_contact)
            ):
                names.append(name)
                contacts.append(contact)
        if Individual.__tablename__ in tables:
            names.extend(conn.execute(select(Individual.defender_name)).scalars())
    # A name or contact met again adds nothing: index each once.
    return NameIndex(dict.fromkeys(names), dict.fromkeys(contacts), for_texts=for_texts)


def withhold(registry: Any, frame: Any, columns: Iterable[str]) -> Any:
    """Return ``frame`` with any cell of ``columns`` that holds a name, contact, e-mail or phone
    replaced by a notice (for text stored before it was checked)."""
    index = name_index(registry)
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].map(
                lambda v: (
                    "[withheld: it named a person or a contact]"
                    if isinstance(v, str) and find_sensitive(v, index)
                    else v
                )
            )
    return out


def check_free_text(
    registry: Any | None, text: str, *, what: str, index: NameIndex | None = None
) -> None:
    """Refuse ``text`` (raise ``TriageError``) when it holds a name, contact, e-mail or phone.

    ``what`` names the field in the message ("the override reason"); the message never
    repeats the name or contact found. ``index`` (``name_index(registry)``, built once) saves
    reading every name again when several texts are checked.
    """
    if index is None and registry is not None:
        index = name_index(registry)
    found = find_sensitive(text, index)
    if found is not None:
        raise TriageError(
            f"{what} holds {found}; it will be read by others, so describe the case without "
            "names or contacts."
        )
