"""The name index folds every name in one pass; each name must get exactly its own tokens."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from triage.audit._names import _INNER_MARK, NameIndex, _map_text, _tokens, _tokens_many

#: Names as an attacker or a careless import could write them: any script, combining marks,
#: compatibility characters, separators, control characters, the batch separator itself.
_ALPHABET = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["\u0301", "\u0308", "\u0327", "ﬁ", "İ", "ß", "Σ", "\x00", "'", "-", "_"]),
)
_names = st.lists(st.text(_ALPHABET, max_size=12), max_size=12)


@given(_names)
def test_folding_names_together_gives_each_its_own_tokens(texts: list[str]) -> None:
    assert _tokens_many(texts) == [_tokens(t) for t in texts]


@given(_names)
def test_joining_inner_marks_together_gives_each_its_own_form(texts: list[str]) -> None:
    assert _map_text(_INNER_MARK.sub, texts) == [_INNER_MARK.sub("", t) for t in texts]


@given(_names, st.lists(st.text(_ALPHABET, max_size=12), max_size=4))
def test_the_index_is_the_one_built_name_by_name(names: list[str], texts: list[str]) -> None:
    one_by_one = NameIndex([], [])
    for name in names:
        if name.strip():
            joined = _INNER_MARK.sub("", name)
            if joined != name:
                one_by_one._add_word_tokens(_tokens(joined))
            one_by_one._add_word_tokens(_tokens(name))
    index = NameIndex(names, [])
    assert index.entries == one_by_one.entries
    assert index.by_token == one_by_one.by_token
    for text in texts + names:
        assert index.hits(text) == one_by_one.hits(text)


@given(_names, st.lists(st.text(_ALPHABET, max_size=16), min_size=1, max_size=4))
def test_an_index_for_some_texts_finds_in_them_what_the_full_index_finds(
    names: list[str], texts: list[str]
) -> None:
    full = NameIndex(names, [])
    some = NameIndex(names, [], for_texts=texts)
    assert len(some.entries) <= len(full.entries)
    for text in texts:
        assert some.hits(text) == full.hits(text)
        assert some.appears_in(text) == full.appears_in(text)


def test_an_index_for_some_texts_finds_a_name_written_in_them() -> None:
    names = ["Ngozi Adaeze Okonkwo", "Seán O'Brien", "Kalo Mirutoza (simulated)"]
    texts = ["Policy for 2017", "Okonkwo, Ngozi: keep her case"]
    some = NameIndex(names, [], for_texts=texts)
    assert len(some.entries) == 1  # only the name sharing a word with the texts
    assert some.hits(texts[1]) and not some.hits(texts[0])
