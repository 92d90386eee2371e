"""Entity tags: one strong tag per content and representation, compared as RFC 9110 says
(If-Match strongly, If-None-Match weakly)."""

from __future__ import annotations

from shared.documents.entity_tags import (
    COMPRESSED,
    FULL,
    content_etag,
    entity_tag,
    if_match_holds,
    not_modified,
)

DOCUMENT = {"id": "urn:x:1", "name": [{"value": "Chaise", "language": "fr"}], "mass": 4.5}


def test_the_content_tag_follows_the_content_not_its_key_order():
    reordered = {"mass": 4.5, "name": [{"language": "fr", "value": "Chaise"}], "id": "urn:x:1"}
    assert content_etag(reordered) == content_etag(DOCUMENT)
    assert content_etag({**DOCUMENT, "mass": 4.6}) != content_etag(DOCUMENT)
    assert content_etag({"name": "é"}) != content_etag({"name": "e"})
    # List order is content: a reordered list is another document.
    assert content_etag([1, 2]) != content_etag([2, 1])


def test_each_representation_has_its_own_quoted_tag():
    tag = content_etag(DOCUMENT)
    assert entity_tag(tag) == entity_tag(tag, COMPRESSED) == f'"{tag}"'
    assert entity_tag(tag, FULL) == f'"{tag}-full"'
    assert entity_tag(tag, "linkset") == f'"{tag}-linkset"'


def test_if_match_is_strong_and_takes_any_representation_of_the_current_version():
    tag = content_etag(DOCUMENT)
    compressed, full = entity_tag(tag), entity_tag(tag, FULL)
    for header in (None, "", "  "):
        assert if_match_holds(header, tag) and if_match_holds(header, None)  # no precondition
    assert if_match_holds("*", tag) and if_match_holds(" * ", tag)
    assert not if_match_holds("*", None) and not if_match_holds(compressed, None)  # nothing to match
    assert if_match_holds(compressed, tag) and if_match_holds(full, tag)
    assert if_match_holds(f'"other", {full}', tag) and if_match_holds(f'"other",{compressed} ', tag)
    assert not if_match_holds('"other"', tag)
    assert not if_match_holds(f"W/{compressed}", tag)  # a weak tag never matches strongly
    assert not if_match_holds(tag, tag)  # unquoted is not the tag


def test_if_none_match_is_weak_and_star_matches_anything():
    tag = entity_tag(content_etag(DOCUMENT))
    for header in (None, "", "  "):
        assert not not_modified(header, tag)
    assert not_modified("*", tag) and not_modified(" * ", tag)
    assert not_modified(tag, tag) and not_modified(f"W/{tag}", tag)
    assert not_modified(f'"a", ,W/{tag} ', tag) and not_modified(f' {tag},"b"', tag)
    assert not not_modified('"a", "b"', tag)
