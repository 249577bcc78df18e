"""Messages built in the Qt-free core speak Chinese once the app's zh_CN translators are installed."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from kdocs_viewer.core import i18n as core_i18n
from kdocs_viewer.core.api import ApiTransportError, KDocsClient
from kdocs_viewer.core.auth import AuthReason, auth_error
from kdocs_viewer.core.oauth_listener import CallbackPage
from kdocs_viewer.core.piclist import PicListError, line_of, parse_pic_list
from kdocs_viewer.core.retry import RetryPolicy
from kdocs_viewer.gui.i18n import install_translators


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[None]:
    installed = install_translators(qapp, "zh_CN")
    assert core_i18n._translator is not None
    yield
    for translator in installed:
        qapp.removeTranslator(translator)
    install_translators(qapp, "en")  # resets the core hook: later tests see English
    assert core_i18n._translator is None


def test_pic_list_problems_are_chinese(chinese: None) -> None:
    with pytest.raises(PicListError) as info:
        parse_pic_list("k1 t\nk2 t\nabc\n")
    text = str(info.value)
    assert text == "第 3 行：pic_key 'abc' 后缺少 tag"
    assert line_of(info.value.problems[0].where) == 3  # the editor can still jump to the line


def test_api_errors_are_chinese(chinese: None) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = KDocsClient("t", f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(ApiTransportError) as info:
        client.list_sheets("wb")
    assert str(info.value) == "无法访问 KDocs API：无法连接到服务器。"


def test_sign_in_messages_and_the_callback_page_are_chinese(chinese: None) -> None:
    assert str(auth_error(AuthReason.DENIED)) == "浏览器中没有允许访问，因此未登录。"
    assert "18765" in str(auth_error(AuthReason.PORT_IN_USE, port=18765))
    page = CallbackPage.default("zh-CN")
    html = page.render(page.success_heading, page.success_text).decode("utf-8")
    assert '<html lang="zh-CN">' in html
    assert "<title>金山文档登录</title>" in html
    assert "登录成功" in html and "现在可以关闭此标签页并返回应用。" in html


def test_english_again_afterwards(qapp: QApplication) -> None:
    install_translators(qapp, "en")
    with pytest.raises(PicListError) as info:
        parse_pic_list("k1 t\nk2 t\nabc\n")
    assert str(info.value) == "line 3: missing tag after pic_key 'abc'"
