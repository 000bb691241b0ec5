"""Every string a page shows is translated into Simplified Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import grassroots
from grassroots.web import i18n

SRC = Path(grassroots.__file__).parent
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[tuple[str, str | None]]:
    """(msgid, context) of every string pages show."""
    found = set()
    for _file, _line, message, _comments, ctx in extract_from_dir(str(SRC), METHOD_MAP, OPTIONS, keywords=KEYWORDS):
        found.add((message if isinstance(message, str) else message[0], ctx))
    return found


def test_every_page_string_has_a_chinese_translation() -> None:
    messages = extracted()
    assert len(messages) > 50
    with (SRC / "web/locale/zh_Hans/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    missing, fuzzy, bad_format = [], [], []
    for msgid, ctx in sorted(messages, key=lambda m: (m[0], m[1] or "")):
        entry = catalog.get(msgid, context=ctx)
        if entry is None or not entry.string:
            missing.append(msgid)
        elif entry.fuzzy:
            fuzzy.append(msgid)
        elif isinstance(entry.string, tuple) and not all(entry.string):
            missing.append(msgid)
        elif set(PLACEHOLDER.findall(msgid)) != set(
            PLACEHOLDER.findall(entry.string[0] if isinstance(entry.string, tuple) else str(entry.string))
        ):
            bad_format.append(msgid)
    assert missing == [], "run scripts/i18n and translate these"
    assert fuzzy == []
    assert bad_format == []


def test_negotiation() -> None:
    assert i18n.negotiate(None) == "en"
    assert i18n.negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh_Hans"
    assert i18n.negotiate("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert i18n.negotiate("fr-FR,zh-TW;q=0.5") == "zh_Hans"
    assert i18n.negotiate("fr,de") == "en"
    assert i18n.negotiate("zh;q=0, en;q=0.1") == "en"
    assert i18n.negotiate("garbage;q=x,,,") == "en"
    assert i18n.negotiate("en", cookie="zh_Hans") == "zh_Hans"
    assert i18n.negotiate("zh", cookie="klingon") == "zh_Hans"


def test_chinese_catalog_loads_and_translates() -> None:
    t = i18n.translations("zh_Hans")
    assert t.gettext("Log in") == "登录"
    assert i18n.translations("en").gettext("Log in") == "Log in"


def test_percentages_from_basis_points() -> None:
    from grassroots.web.templating import bps_percent

    assert [bps_percent(b) for b in (3000, 1250, 100, 5, 0, 8000, 10000)] == [
        "30%",
        "12.5%",
        "1%",
        "0.05%",
        "0%",
        "80%",
        "100%",
    ]


@pytest.mark.parametrize(
    ("path", "chinese"),
    [
        ("/s/no-such-token", "这个分享链接不存在"),
        ("/feed?tab=nonsense", "有些内容缺失或不正确"),
        ("/products?cursor=nonsense", "列表的这一页已不存在"),
    ],
)
async def test_common_page_errors_read_in_chinese(client: httpx.AsyncClient, path: str, chinese: str) -> None:
    r = await client.get(path, headers={"accept": "text/html", "accept-language": "zh-CN"})
    assert 400 <= r.status_code < 500 and chinese in r.text


async def test_words_that_mean_two_things_read_right_in_chinese(client: httpx.AsyncClient) -> None:
    """ "Following" on a button is a state (已关注), on the feed a tab (关注); "Pending" money
    awaits settlement (待结算), a pending offer an answer (待处理)."""
    from tests.commerce.test_regressions import browser_for
    from tests.conftest import actor, make_product, pay_order, place_order
    from tests.content.test_posts import make_post

    zh = {"accept": "text/html", "accept-language": "zh-CN"}
    creator, fan, mcn = await actor(client, "creator"), await actor(client, "consumer"), await actor(client, "mcn")
    post = await make_post(client, creator, title="青瓷 Celadon")
    assert (await client.post(f"/api/v1/users/{creator.id}/follow", headers=fan.headers)).is_success
    offer = {"creator_id": creator.id, "share_bps": 2000}
    assert (await client.post("/api/v1/mcn/contracts", headers=mcn.headers, json=offer)).status_code == 201
    fan_browser, creator_browser = await browser_for(client, fan), await browser_for(client, creator)
    profile = (await fan_browser.get(f"/u/{creator.id}", headers=zh)).text
    assert re.search(r'data-testid="follow">\s*已关注\s*<', profile)
    page = (await fan_browser.get(f"/posts/{post['id']}", headers=zh)).text
    assert "<title>青瓷 Celadon · Grassroots</title>" in page and "已关注" in page
    assert ">关注<" in (await fan_browser.get("/feed", headers=zh)).text  # the tab
    assert "待处理" in (await creator_browser.get("/mcn/contracts", headers=zh)).text
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier)
    assert (
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    ).status_code == 201
    order = await place_order(client, fan, product["skus"][0]["id"], source={"creator_id": creator.id})
    await pay_order(client, fan, order["id"])  # a commission pending settlement
    earnings = (await creator_browser.get("/earnings", headers=zh)).text
    assert re.search(r'class="label">待结算</div>\s*<div class="value[^"]*" data-testid="pending"', earnings)
