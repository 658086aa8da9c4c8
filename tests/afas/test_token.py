from __future__ import annotations

import base64
import pickle

import pytest

from afas_pipeline.afas import AfasConfigError, AfasToken

HEX = "949C1A9CD9AE4797950D94F55A7A4D056770472D4963CB9A8D3800BEE0CCE6A2"
XML = f"<token><version>1</version><data>{HEX}</data></token>"


def test_full_xml_header_is_base64_of_the_whole_xml() -> None:
    header = AfasToken(XML).authorization_header()
    assert header == "AfasToken " + base64.b64encode(XML.encode("utf-8")).decode()


def test_official_example_header() -> None:
    # afas-api.md §2: the documented header for this token.
    hex_ = "ADE370BE8DAF40D0A17FFB914E42675E9998C2D546A2F4FA3E4F3ABFA867B96F"
    expected = (
        "AfasToken PHRva2VuPjx2ZXJzaW9uPjE8L3ZlcnNpb24+PGRhdGE+QURFMzcwQkU4REFGNDBEMEExN0ZGQjkx"
        "NEU0MjY3NUU5OTk4QzJENTQ2QTJGNEZBM0U0RjNBQkZBODY3Qjk2RjwvZGF0YT48L3Rva2VuPg=="
    )
    assert AfasToken(hex_).authorization_header() == expected


def test_hex_only_is_wrapped_in_xml() -> None:
    assert AfasToken(HEX).authorization_header() == AfasToken(XML).authorization_header()


def test_whitespace_is_tolerated() -> None:
    spaced = f"  <token>\n  <version>1</version>\n  <data> {HEX} </data>\n</token>\n"
    assert AfasToken(spaced) == AfasToken(XML)


@pytest.mark.parametrize(
    "bad",
    ["", "abc", HEX[:-1], HEX + "0", "Z" * 64, f"<token><data>{HEX}</data></token>", XML + "x"],
)
def test_bad_shapes_are_rejected_without_echo(bad: str) -> None:
    with pytest.raises(AfasConfigError, match="AFAS_TOKEN is not an AFAS token: expected") as info:
        AfasToken(bad)
    if bad:
        assert bad not in str(info.value)


def test_repr_and_str_are_redacted() -> None:
    token = AfasToken(XML)
    for text in (repr(token), str(token), f"{token}", f"{token!r}", repr([token])):
        assert HEX not in text
        assert "***" in text


def test_not_picklable() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(AfasToken(XML))
