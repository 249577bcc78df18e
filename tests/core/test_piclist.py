"""Picture lists: every accepted format, precise errors, duplicates, and dump/parse round-trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.piclist import (
    CONFIRM_PICTURES_ABOVE,
    MAX_PIC_KEY_LEN,
    PicListError,
    Problem,
    dump_pic_list,
    needs_confirmation,
    parse_pic_list,
)


def full(ref: PicRef) -> tuple[str, str, str | None, str | None, str | None]:
    """PicRef equality ignores context; compare everything."""
    return (ref.pic_key, ref.tag, ref.sheet, ref.cell, ref.caption)


def error_of(text: str) -> PicListError:
    with pytest.raises(PicListError) as info:
        parse_pic_list(text)
    return info.value


# --- formats ----------------------------------------------------------------------------------------


def test_request_body() -> None:
    body = {
        "pics": [{"pic_key": "ravXFmauNdDdDnapWimCvn", "tag": "attachment"}, {"pic_key": "b", "tag": "x"}]
    }
    result = parse_pic_list(json.dumps(body))
    assert result.format == "json-body"
    assert [r.ident for r in result.pics] == [("ravXFmauNdDdDnapWimCvn", "attachment"), ("b", "x")]
    assert result.duplicates == []


def test_bare_json_list_with_context() -> None:
    text = json.dumps([{"pic_key": "k", "tag": "local", "sheet": "表1", "cell": "表1!B7", "caption": "猫"}])
    result = parse_pic_list(text)
    assert result.format == "json-list"
    assert [full(r) for r in result.pics] == [("k", "local", "表1", "表1!B7", "猫")]


def test_cells_response_finds_nested_keys_addresses_and_captions() -> None:
    cells = [
        {"row_from": 6, "row_to": 6, "col_from": 0, "col_to": 0, "cell_text": "产品图"},
        {"row_from": 6, "row_to": 6, "col_from": 1, "col_to": 1, "cell_text": "", "pic": {"pic_key": "p1"},
         "meta": {"tag": "attachment"}},
        {"row_from": 7, "col_from": 27, "pic_key": "p2", "tag": "cloud"},
        {"row_from": 8, "col_from": 0, "cell_text": "no picture here"},
    ]  # fmt: skip
    result = parse_pic_list(json.dumps({"code": 0, "data": {"cells": cells}}))
    assert result.format == "cells"
    assert [full(r) for r in result.pics] == [
        ("p1", "attachment", None, "B7", "产品图"),
        ("p2", "cloud", None, "AB8", None),
    ]
    # The bare {"cells": [...]} form and a list of cells are the same thing.
    assert parse_pic_list(json.dumps({"cells": cells})).pics == result.pics
    assert parse_pic_list(json.dumps(cells)).format == "cells"


def test_cells_without_positions_and_api_error() -> None:
    result = parse_pic_list('{"cells": [{"x": [{"pic_key": "k", "tag": "t"}]}]}')
    assert [full(r) for r in result.pics] == [("k", "t", None, None, None)]
    err = error_of('{"cells": [{"cell_text": "a"}, {"row_from": 2, "col_from": 2, "pic_key": "k"}]}')
    assert err.problems == [Problem("cell C3", "missing tag after pic_key 'k'")]
    err = error_of('{"code": 20007, "msg": "AccessTokenInvalid"}')
    assert "code 20007" in str(err) and "AccessTokenInvalid" in str(err)


def test_csv_with_header_quotes_bom_crlf() -> None:
    text = (
        '\ufeffPic Key, Tag ,caption,cell\r\nk1,attachment,"hello, world",Sheet1!B2\r\n"k2",local,,\r\n\r\n'
    )
    result = parse_pic_list(text)
    assert result.format == "csv"
    assert [full(r) for r in result.pics] == [
        ("k1", "attachment", None, "Sheet1!B2", "hello, world"),
        ("k2", "local", None, None, None),
    ]


def test_csv_without_header_and_tsv() -> None:
    assert [r.ident for r in parse_pic_list("k1,attachment\nk2, local \n").pics] == [
        ("k1", "attachment"),
        ("k2", "local"),
    ]
    result = parse_pic_list("pic_key\ttag\tcaption\nk1\tcloud\t第一张\n")
    assert result.format == "tsv"
    assert [full(r) for r in result.pics] == [("k1", "cloud", None, None, "第一张")]


def test_plain_text_with_comments_blank_lines_and_trailing_space() -> None:
    text = "# exported by hand\r\n\r\nk1 attachment   \r\n  k2\tlocal # the second one\r\n"
    result = parse_pic_list(text)
    assert result.format == "text"
    assert [r.ident for r in result.pics] == [("k1", "attachment"), ("k2", "local")]


def test_tag_is_opaque() -> None:
    weird = "  Attach-MENT/β  "
    result = parse_pic_list(json.dumps({"pics": [{"pic_key": "k", "tag": weird}]}))
    assert result.pics[0].tag == weird


def test_duplicates_collapse_keeping_first_order_and_context() -> None:
    text = "pic_key,tag,caption\nb,t,first\na,t,\nb,t,second\nb,other,\na,t,\n"
    result = parse_pic_list(text)
    assert [full(r) for r in result.pics] == [
        ("b", "t", None, None, "first"),
        ("a", "t", None, None, None),
        ("b", "other", None, None, None),
    ]
    assert result.duplicates == [
        Problem("line 4", "duplicate of line 2 (pic_key 'b', tag 't')"),
        Problem("line 6", "duplicate of line 3 (pic_key 'a', tag 't')"),
    ]


# --- errors -------------------------------------------------------------------------------------------


def test_plain_text_keeps_the_caption_after_the_tag() -> None:
    text = "k1 attachment 白色  帆布包 # from the shop\nk2 local\nk3 cloud Golden candle   \n"
    result = parse_pic_list(text)
    assert result.format == "text"
    assert [full(r) for r in result.pics] == [
        ("k1", "attachment", None, None, "白色  帆布包"),  # inner spaces kept, the comment dropped
        ("k2", "local", None, None, None),
        ("k3", "cloud", None, None, "Golden candle"),
    ]
    # kdocs-pics scan's JSON shape carries it on
    again = parse_pic_list(dump_pic_list(result.pics)).pics
    assert [full(r) for r in again] == [full(r) for r in result.pics]


def test_text_errors_name_the_line() -> None:
    err = error_of("good tag\nabc\n\nx\x07 y caption\n")
    assert err.problems[0] == Problem("line 2", "missing tag after pic_key 'abc'")
    assert [p.where for p in err.problems] == ["line 2", "line 4"]
    assert str(err).startswith("line 2: missing tag after pic_key 'abc'\nline 4: ")


def test_json_errors_name_the_item() -> None:
    items = [{"pic_key": "ok", "tag": "t"}, {"pic_key": 42, "tag": "t"}, "nope", {"tag": "t"},
             {"pic_key": "k", "tag": ""}, {"pic_key": "k", "tag": "t", "caption": 5}]  # fmt: skip
    err = error_of(json.dumps({"pics": items}))
    assert err.problems == [
        Problem("item 2", "pic_key must be a non-empty string, got 42"),
        Problem("item 3", "expected an object with pic_key and tag, got 'nope'"),
        Problem("item 4", "missing pic_key"),
        Problem("item 5", "tag must be a non-empty string, got ''"),
        Problem("item 6", "caption must be a string, got 5"),
    ]


def test_invalid_json_names_line_and_column() -> None:
    err = error_of('{"pics": [\n  {"pic_key": "a", "tag": "t"}\n  {"pic_key": "b", "tag": "t"}\n]}')
    assert str(err) == "line 3, column 3: invalid JSON: Expecting ',' delimiter"
    assert str(error_of('{"pics": 5}')) == "'pics' must be a list, got 5"
    assert "found keys 'urls'" in str(error_of('{"urls": []}'))
    assert str(error_of("[" * 100_000)) == "invalid JSON: nested too deeply"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a b", "pic_key 'a b' contains whitespace"),
        ("a\u3000b", "pic_key 'a\\u3000b' contains whitespace"),
        ("a\x07b", "pic_key 'a\\x07b' contains a control or invisible character"),
        ("a\u200bb", "pic_key 'a\\u200bb' contains a control or invisible character"),
        ("k" * (MAX_PIC_KEY_LEN + 1), f"pic_key is {MAX_PIC_KEY_LEN + 1} characters long (at most 256)"),
        ("", "missing pic_key"),
        (".", "pic_key cannot be '.'"),
        ("..", "pic_key cannot be '..'"),
        ("a/b", "pic_key 'a/b' contains a slash (/ or \\)"),
        ("..\\..\\x", "pic_key '..\\\\..\\\\x' contains a slash (/ or \\)"),
    ],
)
def test_pic_key_validation(key: str, expected: str) -> None:
    assert error_of(json.dumps([{"pic_key": key, "tag": "t"}])).problems == [Problem("item 1", expected)]


def test_csv_errors() -> None:
    assert error_of("k1,t,extra\n").problems == [
        Problem(
            "line 1", "3 fields, expected 2; add a header row to name extra columns (sheet, cell, caption)"
        )
    ]
    assert str(error_of("pic_key,tag,captoin\nk,t,c\n")) == (
        "line 1: unknown column 'captoin' (expected pic_key and tag, optionally sheet, cell, caption)"
    )
    assert str(error_of("pic_key,caption\nk,c\n")) == "line 1: the header has no tag column"
    assert str(error_of("pic_key,tag\nk1,t\nk2\n,t\n")) == (
        "line 3: missing tag after pic_key 'k2'\nline 4: missing pic_key"
    )
    # A quoted field spanning lines: the error names the line where the record starts.
    assert str(error_of('pic_key,tag,caption\n"k 1",t,"two\nlines"\nk2,t,"x"\n')).startswith(
        "line 2: pic_key 'k 1' contains whitespace"
    )
    assert str(error_of("k,t\nk2," + "x" * 200_000)).startswith("line 2: invalid CSV: field larger than")


def test_a_header_of_unknown_columns_is_refused_not_read_as_a_picture() -> None:
    err = error_of("file,name\nphoto.png,cat\n")
    assert err.problems == [
        Problem(
            "line 1",
            "unknown columns 'file', 'name' (expected pic_key and tag, optionally sheet, cell, caption)",
        )
    ]
    assert str(error_of("Pic Key\tTitle\nk\tt\n")) == (
        "line 1: unknown column 'title' (expected pic_key and tag, optionally sheet, cell, caption)"
    )
    assert str(error_of("key,tag\nk,t\n")).startswith("line 1: unknown column 'key' (expected pic_key")
    assert str(error_of("tag,caption\nt,c\n")) == "line 1: the header has no pic_key column"
    assert str(error_of("cell,caption\nA1,c\n")) == "line 1: the header has no pic_key and no tag column"
    assert str(error_of("图片,名称\nk,t\n")).startswith("line 1: unknown columns '图片', '名称'")
    # Rows of data still need no header, also with the "url" tag of the other cell shape.
    assert [r.ident for r in parse_pic_list("k1,url\nk2,attachment\n").pics] == [
        ("k1", "url"),
        ("k2", "attachment"),
    ]


def test_a_number_too_long_to_convert_names_its_line_and_column() -> None:
    digits = "1" * 100_000
    err = error_of('{"pics": [\n  {"pic_key": "a", "tag": ' + digits + "}\n]}")
    assert err.problems == [
        Problem("line 2, column 27", "a number with 100000 digits is too long (at most 4300)")
    ]
    # Inside a string the digits are text (and fine); as a negative number in a cells response, not.
    assert parse_pic_list(json.dumps({"pics": [{"pic_key": "k", "tag": digits}]})).pics[0].tag == digits
    cells = '{"cells": [{"row_from": -' + "9" * 5000 + ', "col_from": 1, "pic_key": "k", "tag": "t"}]}'
    assert str(error_of(cells)) == "line 1, column 25: a number with 5000 digits is too long (at most 4300)"
    # A float of many digits converts (to a float): it is reported as what it is, a wrong tag.
    assert str(error_of('[{"pic_key": "k", "tag": ' + digits + ".5}]")).startswith(
        "item 1: tag must be a non-empty string, got "
    )


def test_repeated_json_keys_are_refused_naming_the_key_and_line() -> None:
    text = (
        '{"pics": [\n'
        '  {"pic_key": "a", "tag": "attachment"},\n'
        '  {"pic_key": "b",\n'
        '   "tag": "local", "pic_key": "c"},\n'
        '  {"pic_key": "d", "t\\u0061g": "x", "tag": "y"}\n'
        "]}"
    )
    err = error_of(text)
    assert err.problems == [
        Problem("line 4, column 20", "the key 'pic_key' appears twice in one object (first on line 3)"),
        Problem("line 5, column 37", "the key 'tag' appears twice in one object (first on line 5)"),
    ]
    # The same key in different objects, nested objects and strings that look like keys are all fine.
    fine = '{"pics": [{"pic_key": "a", "tag": "t", "caption": "\\"tag\\": {"}, {"pic_key": "b", "tag": "t"}]}'
    assert len(parse_pic_list(fine).pics) == 2
    assert str(error_of('{"pics": [], "pics": []}')) == (
        "line 1, column 14: the key 'pics' appears twice in one object (first on line 1)"
    )


def test_confirmation_limit_and_call_count() -> None:
    assert not needs_confirmation(CONFIRM_PICTURES_ABOVE)
    assert needs_confirmation(CONFIRM_PICTURES_ABOVE + 1)


def test_many_problems_are_capped_in_the_message_but_all_kept() -> None:
    err = error_of("\n".join(f"k{i}" for i in range(8)))
    assert len(err.problems) == 8
    lines = str(err).splitlines()
    assert lines[0] == "line 1: missing tag after pic_key 'k0'"
    assert len(lines) == 6 and lines[-1] == "… and 3 more"


@pytest.mark.parametrize(
    "text", ["", "   \r\n", "\ufeff", "# nothing\n\n", '{"pics": []}', "[]", '{"cells": []}']
)
def test_nothing_found_is_an_error(text: str) -> None:
    assert str(error_of(text)) == "no pictures found"


# --- round trip and robustness ---------------------------------------------------------------------

keys = st.text(
    st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zs", "Zl", "Zp"], exclude_characters="/\\"),
    min_size=1,
    max_size=40,
).filter(lambda k: not any(c.isspace() for c in k) and k not in (".", ".."))
tags = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)
context = st.none() | st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
cjk = st.none() | st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=10)
refs = st.builds(PicRef, keys, tags | st.sampled_from(["attachment", "local", "cloud"]), context, context,
                 context | cjk)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(refs, min_size=1, max_size=8, unique_by=lambda r: r.ident))
def test_dump_then_parse_round_trips(pics: list[PicRef]) -> None:
    text = dump_pic_list(pics)
    text.encode("utf-8")  # always writable as UTF-8
    result = parse_pic_list(text)
    assert result.format == "json-body"
    assert [full(r) for r in result.pics] == [full(r) for r in pics]
    assert result.duplicates == []


def test_dump_is_readable_json_with_cjk_kept() -> None:
    text = dump_pic_list([PicRef("a", "t", caption="图 1"), PicRef("b", "u", sheet="S", cell="S!A1")])
    assert text == (
        '{"pics": [\n  {"pic_key": "a", "tag": "t", "caption": "图 1"},\n'
        '  {"pic_key": "b", "tag": "u", "sheet": "S", "cell": "S!A1"}\n]}\n'
    )
    assert dump_pic_list([]) == '{"pics": []}\n'


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=200)
    | st.text(st.sampled_from(list('{}[]",:\t\n\r# ak_-0\ufeff\x00')), max_size=80)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
            st.sampled_from(["pic_key", "tag", "pics", "cells", "data", "code", "row_from", "col_from", "x"]),
            inner, max_size=4),
    ).map(json.dumps)
)  # fmt: skip
def test_parser_only_ever_raises_picklisterror(text: str) -> None:
    _only_picklisterror(text)


json_piece = st.sampled_from(
    ['"pic_key"', '"tag"', '"pics"', '"cells"', '"k"', ":", ",", "{", "}", "[", "]", " ", "\n", "1", "-",
     ".5", "e9", '"\\u0074ag"', '"\\""', "null", "true"]
) | st.integers(4290, 4310).map(lambda n: "7" * n)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(json_piece, max_size=40).map("".join) | st.lists(json_piece, max_size=30).map(
    lambda parts: '{"pics": [{"pic_key": "k", "tag": "t", ' + "".join(parts) + "}]}"
))  # fmt: skip
def test_json_fragments_with_long_numbers_and_repeated_keys_only_raise_picklisterror(text: str) -> None:
    _only_picklisterror(text)


member = st.tuples(
    st.sampled_from(["pic_key", "tag", "caption", "t\\u0061g", "pic\\u005fkey"]),
    st.sampled_from(['"k"', '"t"', "1", "[]", '{"tag": "x", "tag": "y"}', "7" * 4301, "-" + "7" * 4301]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(member, max_size=5), st.sampled_from(["", "\n", " \r\n  "]))
def test_repeated_keys_and_long_numbers_are_always_reported(members: list[tuple[str, str]], gap: str) -> None:
    text = '{"pics": [' + gap + "{" + ("," + gap).join(f'"{k}": {v}' for k, v in members) + "}]}"
    keys = [json.loads(f'"{k}"') for k, _ in members]
    huge = any(len(v.lstrip("-")) > 4300 for _, v in members)
    nested = any(v.startswith('{"tag"') for _, v in members)
    if not (huge or nested or len(set(keys)) < len(keys)):
        _only_picklisterror(text)
        return
    message = str(error_of(text))
    assert message.startswith("line ")
    assert ("digits is too long" in message) if huge else ("appears twice in one object" in message)


def _only_picklisterror(text: str) -> None:
    try:
        result = parse_pic_list(text)
    except PicListError as e:
        assert e.problems and str(e)
    else:
        assert result.pics
