"""The core's translation hook: English by default, a plugged-in translator when installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kdocs_viewer.core import i18n
from kdocs_viewer.core.i18n import set_translator, translate
from kdocs_viewer.core.piclist import PicListError, line_of, parse_pic_list


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_translator(None)


def test_default_is_identity() -> None:
    assert i18n._translator is None
    assert translate("piclist", "line {line}") == "line {line}"


def test_installed_translator_is_used_and_placeholders_fill_after() -> None:
    seen: list[tuple[str, str]] = []

    def fake(context: str, text: str) -> str:
        seen.append((context, text))
        return {"line {line}": "第 {line} 行"}.get(text, text)

    set_translator(fake)
    assert translate("piclist", "line {line}").format(line=3) == "第 3 行"
    assert ("piclist", "line {line}") in seen
    with pytest.raises(PicListError) as info:
        parse_pic_list("a t\nb t\nabc\n")
    assert str(info.value) == "第 3 行: missing tag after pic_key 'abc'"
    assert line_of(info.value.problems[0].where) == 3


def test_reset_restores_english() -> None:
    set_translator(lambda context, text: "x")
    assert translate("api", "empty body") == "x"
    set_translator(None)
    assert translate("api", "empty body") == "empty body"
    with pytest.raises(PicListError) as info:
        parse_pic_list("a t\nb t\nabc\n")
    assert str(info.value) == "line 3: missing tag after pic_key 'abc'"
    assert line_of("line 4, column 2") == 4
    assert line_of("item 2") is None
