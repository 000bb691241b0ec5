"""The product page and the supplier's product forms, over HTTP."""

from __future__ import annotations

import re

import httpx

from grassroots.kernel.platform import Platform
from tests.commerce.test_regressions import NEW_PRODUCT_FORM, browser_for, new_product
from tests.conftest import actor, make_product, place_order
from tests.web.test_pages import HTML, csrf_of


async def test_the_product_form_stores_what_was_typed(client: httpx.AsyncClient) -> None:
    r = await new_product(client, sku0_price="12,800.50")
    assert r.status_code == 303
    product_id = r.headers["location"].rsplit("/", 1)[1]
    sku = (await client.get(f"/api/v1/products/{product_id}")).json()["skus"][0]
    assert (sku["price_minor"], sku["stock"]) == (1_280_050, 5)


def sku_form(page: str, sku_id: str) -> dict[str, str]:
    """The boxes of one SKU's row on the product's edit page, as the page filled them in."""
    found = re.search(rf'<form[^>]*id="sku-{sku_id}"(.*?)</form>', page, re.S)
    assert found, sku_id
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', found.group(1)))
    return {**fields, "csrf_token": csrf_of(page)}


async def test_set_stock_refuses_what_is_not_a_number(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, stock=7)
    sku = product["skus"][0]["id"]
    c = await browser_for(client, supplier)
    page = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    for field, raw in (
        ("stock", "²"),
        ("stock", "-1"),
        ("stock", "1.5"),
        ("price", "68,50"),
        ("price", "0"),
        ("name", " "),
    ):
        r = await c.post(f"/supplier/skus/{sku}", data={**sku_form(page.text, sku), field: raw}, headers=HTML)
        assert r.status_code == 422 and 'data-testid="sku-error"' in r.text, (field, raw)
        said = "Write the price with a point" if raw == "68,50" else "Each SKU needs a name, a price above zero"
        assert said in r.text, raw
        back = sku_form(r.text, sku)  # the row as typed, and as the page had shown it
        assert back[field] == raw.strip() and back["stock_shown"] == "7", (field, raw)
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]
    assert (got["name"], got["price_minor"], got["stock"]) == (
        product["skus"][0]["name"],
        product["skus"][0]["price_minor"],
        7,
    )
    await c.aclose()


async def test_a_refused_edit_keeps_what_was_typed(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, title="Old title")
    c = await browser_for(client, supplier)
    page = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    form = {"csrf_token": csrf_of(page.text), "title": "New title", "description": "New words", "commission": "x"}
    r = await c.post(f"/supplier/products/{product['id']}", data={**form, "status": "draft"}, headers=HTML)
    assert r.status_code == 422
    assert 'value="New title"' in r.text and "New words" in r.text and 'value="x"' in r.text
    # the badge by the title says what is saved (active), not the draft the form asked for
    assert re.findall(r'data-testid="status">([^<]*)<', r.text) == ["On sale"]
    await c.aclose()


async def test_another_suppliers_product_page_refuses_in_the_readers_language(client: httpx.AsyncClient) -> None:
    owner, other = await actor(client, "supplier"), await actor(client, "supplier")
    product = await make_product(client, owner)
    c = await browser_for(client, other)
    r = await c.get(f"/supplier/products/{product['id']}", headers={**HTML, "accept-language": "zh-CN"})
    assert r.status_code == 403 and "只有上架这件商品的供货商才能修改它" in r.text
    assert "Only the supplier who listed" not in r.text
    await c.aclose()


async def test_a_product_on_sale_is_badged_on_sale_not_in_force(client: httpx.AsyncClient) -> None:
    owner = await actor(client, "supplier")
    product = await make_product(client, owner)
    c = await browser_for(client, owner)
    zh = {**HTML, "accept-language": "zh-CN"}
    for path in ("/supplier/products", f"/supplier/products/{product['id']}"):
        page = await c.get(path, headers=zh)
        badge = re.search(r'data-testid="status">([^<]*)<', page.text)
        assert badge and badge.group(1) == "在售", (path, badge)
    await c.aclose()


async def test_the_buy_button_picks_what_can_be_bought_and_only_shoppers_press_it(client: httpx.AsyncClient) -> None:
    supplier, creator, shopper = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    skus = [
        {"name": "small", "price_minor": 100, "currency": "CNY", "stock": 0},
        {"name": "large", "price_minor": 200, "currency": "CNY", "stock": 5},
    ]
    body = {"title": "Two sizes", "category": "home", "commission_bps": 1000, "skus": skus}
    product = (await client.post("/api/v1/products", headers=supplier.headers, json=body)).json()

    def buy_state(page: str) -> tuple[str, bool]:
        checked = re.findall(r'<input type="radio" name="sku" value="([^"]+)" checked', page)
        button = re.search(r"<button[^>]*>[^<]*Buy now", page)
        assert button
        return checked[0] if checked else "", "disabled" in button.group(0)

    page = (await client.get(f"/products/{product['id']}", headers={**HTML, **shopper.headers})).text
    assert buy_state(page) == (product["skus"][1]["id"], False)  # the sold-out first size is not picked
    page = (await client.get(f"/products/{product['id']}", headers={**HTML, **creator.headers})).text
    assert buy_state(page)[1] and "Sign in as a shopper to buy." in page


async def test_the_next_page_of_a_search_keeps_the_search(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    await make_product(client, supplier, title="Tea other")
    for i in range(21):
        await make_product(client, supplier, title=f"Tea & cup {i}")
    page = await client.get("/products", params={"q": "Tea & cup"}, headers=HTML)
    href = re.search(r'<div class="pager"><a [^>]*href="([^"]+)"', page.text)
    assert href
    following = await client.get(href.group(1).replace("&amp;", "&"), headers=HTML)
    titles = re.findall(r'<div class="product-title">([^<]+)</div>', following.text)
    assert titles and all("cup" in t for t in titles)


async def test_the_next_page_keeps_the_page_size_asked_for(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    for title in ("First tea", "Second tea", "Third tea"):
        await make_product(client, supplier, title=title)
    c = await browser_for(client, supplier)
    seen = []
    url: str | None = "/supplier/products?limit=1"
    while url:
        page = await c.get(url, headers=HTML)
        assert page.status_code == 200
        seen += re.findall(r"(First|Second|Third) tea", page.text)
        nxt = re.search(r'<div class="pager"><a [^>]*href="([^"]+)"', page.text)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
        assert url is None or "limit=1" in url
    assert sorted(seen) == ["First", "Second", "Third"]


async def test_a_product_form_without_a_field_leaves_that_field_alone(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier)
    c = await browser_for(client, supplier)
    page = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    r = await c.post(
        f"/supplier/products/{product['id']}",
        data={"csrf_token": csrf_of(page.text), "commission": "20"},
        headers=HTML,
    )
    assert r.status_code == 303
    after = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert after["description"] == "Hand-thrown in Longquan." and after["title"] == product["title"]
    assert after["commission_bps"] == 2000
    r = await c.post(
        f"/supplier/products/{product['id']}",
        data={"csrf_token": csrf_of(page.text), "commission": "20", "description": ""},
        headers=HTML,
    )
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["description"] == ""


async def test_share_and_earn_is_offered_to_those_who_earn_by_sharing(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier)
    for role, offered in (("consumer", True), ("creator", True), ("supplier", False), ("mcn", False)):
        c = await browser_for(client, supplier if role == "supplier" else await actor(client, role))
        page = await c.get(f"/products/{product['id']}", headers=HTML)
        assert ('data-testid="share-form"' in page.text) is offered, role


def _shown(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return found.group(1)


async def test_a_stale_stock_form_does_not_put_back_what_orders_took(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=10)
    sku = product["skus"][0]["id"]
    c = await browser_for(client, supplier)
    page = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    form = {**sku_form(page.text, sku), "stock": "15"}  # 5 delivered
    await place_order(client, buyer, sku, 3)  # meanwhile
    r = await c.post(f"/supplier/skus/{sku}", data=form, headers=HTML)
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"] == 7
    again = await c.get(r.headers["location"], headers=HTML)
    assert (
        "The stock of one cup changed to 7 since this page was opened" in again.text
        and sku_form(again.text, sku)["stock_shown"] == "7"
    )
    r = await c.post(f"/supplier/skus/{sku}", data={**sku_form(again.text, sku), "stock": "12"}, headers=HTML)
    assert "Saved." in (await c.get(r.headers["location"], headers=HTML)).text
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"] == 12
    # a row saved as the page showed it changes nothing, not even stock orders took since
    page = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    await place_order(client, buyer, sku, 2)
    await c.post(f"/supplier/skus/{sku}", data=sku_form(page.text, sku), headers=HTML)
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"] == 10
    await c.aclose()


async def test_a_supplier_renames_reprices_and_adds_options_from_the_product_page(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, price=680, stock=10)
    sku = product["skus"][0]["id"]
    c = await browser_for(client, supplier)
    page = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    form = sku_form(page.text, sku)
    assert (form["price"], form["price_shown"]) == ("6.80", "680")
    r = await c.post(f"/supplier/skus/{sku}", data={**form, "name": "250 g tin", "price": "68.00"}, headers=HTML)
    assert "Saved." in (await c.get(r.headers["location"], headers=HTML)).text
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]
    assert (got["name"], got["price_minor"], got["stock"]) == ("250 g tin", 6800, 10)
    # another tab, opened before: its price is refused with the one set since, nothing saved
    r = await c.post(f"/supplier/skus/{sku}", data={**form, "price": "7.00", "stock": "3"}, headers=HTML)
    told = await c.get(r.headers["location"], headers=HTML)
    assert "The price of 250 g tin was changed to CN¥68.00 since this page was opened" in told.text
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]
    assert (got["price_minor"], got["stock"]) == (6800, 10)
    # that old tab renaming only: the name is set, the price left as it is now
    r = await c.post(f"/supplier/skus/{sku}", data={**form, "name": "250 g gift tin"}, headers=HTML)
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]
    assert (got["name"], got["price_minor"]) == ("250 g gift tin", 6800)

    add = {"csrf_token": csrf_of(told.text), "name": "Gift box", "price": "128.50", "stock": "4"}
    r = await c.post(f"/supplier/products/{product['id']}/skus", data=add, headers=HTML)
    assert r.status_code == 303 and "Option added." in (await c.get(r.headers["location"], headers=HTML)).text
    skus = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"]
    assert [(s["name"], s["price_minor"], s["currency"], s["stock"]) for s in skus][1] == ("Gift box", 12850, "CNY", 4)
    r = await c.post(f"/supplier/products/{product['id']}/skus", data={**add, "name": "gift BOX"}, headers=HTML)
    assert r.status_code == 422 and "Each SKU needs a name of its own." in r.text and 'value="gift BOX"' in r.text
    assert 'value="128.50"' in r.text and '<details open data-testid="add-sku">' in r.text  # open, as typed
    r = await c.post(f"/supplier/products/{product['id']}/skus", data={**add, "price": "abc"}, headers=HTML)
    assert r.status_code == 422 and "a price above zero" in r.text
    assert len((await client.get(f"/api/v1/products/{product['id']}")).json()["skus"]) == 2
    page = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    r = await c.post(f"/supplier/skus/{sku}", data={**sku_form(page.text, sku), "name": "GIFT box "}, headers=HTML)
    assert r.status_code == 422 and "Each SKU needs a name of its own." in r.text
    assert sku_form(r.text, sku)["name"] == "GIFT box"  # kept as typed, to correct
    other = await browser_for(client, await actor(client, "supplier"))
    page = await other.get("/supplier/products", headers=HTML)
    r = await other.post(
        f"/supplier/products/{product['id']}/skus", data={**add, "csrf_token": csrf_of(page.text)}, headers=HTML
    )
    assert r.status_code == 403
    r = await other.post(f"/supplier/skus/{sku}", data={**form, "csrf_token": csrf_of(page.text)}, headers=HTML)
    assert r.status_code == 403
    assert len((await client.get(f"/api/v1/products/{product['id']}")).json()["skus"]) == 2
    await c.aclose()
    await other.aclose()


async def test_saving_an_old_tab_keeps_a_status_changed_since(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier)
    c = await browser_for(client, supplier)
    stale = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    form = {
        "csrf_token": csrf_of(stale.text),
        "title": product["title"],
        "description": "Hand-thrown.",
        "commission": "20",
        "status": "active",
        "status_shown": _shown(stale.text, "status_shown"),
    }
    await c.post(f"/supplier/products/{product['id']}", data={**form, "status": "archived"}, headers=HTML)  # tab 2
    r = await c.post(f"/supplier/products/{product['id']}", data=form, headers=HTML)  # tab 1: a typo fixed
    assert r.status_code == 303
    got = (await client.get(f"/api/v1/products/{product['id']}", headers=supplier.headers)).json()
    assert (got["status"], got["description"]) == ("archived", "Hand-thrown.")
    fresh = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    await c.post(
        f"/supplier/products/{product['id']}",
        data={**form, "csrf_token": csrf_of(fresh.text), "status_shown": _shown(fresh.text, "status_shown")},
        headers=HTML,
    )
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["status"] == "active"  # chosen on purpose
    await c.aclose()


async def test_saving_an_old_tab_keeps_a_commission_changed_since(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, commission_bps=3000)
    c = await browser_for(client, supplier)
    stale = await c.get(f"/supplier/products/{product['id']}", headers=HTML)
    assert _shown(stale.text, "commission_shown") == "3000"
    form = {
        "csrf_token": csrf_of(stale.text),
        "title": "Fixed title",
        "description": "Hand-thrown.",
        "commission": "30",
        "status": "active",
        "status_shown": "active",
        "commission_shown": "3000",
    }
    raised = {"commission_bps": 4000}  # meanwhile, from another tab or the API
    assert (await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json=raised)).is_success
    r = await c.post(f"/supplier/products/{product['id']}", data=form, headers=HTML)  # tab 1: a typo fixed
    assert r.status_code == 303
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert (got["title"], got["commission_bps"]) == ("Fixed title", 4000)

    # A new rate typed over the one the page showed is refused, and says what it is now.
    r = await c.post(f"/supplier/products/{product['id']}", data={**form, "commission": "25"}, headers=HTML)
    assert r.status_code == 422
    assert "The commission was changed to 40% since this page was opened" in r.text
    assert _shown(r.text, "commission_shown") == "4000"
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["commission_bps"] == 4000
    r = await c.post(  # told of it, the supplier saves again: that is a choice
        f"/supplier/products/{product['id']}",
        data={**form, "csrf_token": csrf_of(r.text), "commission": "25", "commission_shown": "4000"},
        headers=HTML,
    )
    assert r.status_code == 303
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["commission_bps"] == 2500
    await c.aclose()


async def test_pages_promise_the_return_window_that_is_enforced(client: httpx.AsyncClient, platform: Platform) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier)
    before = platform.settings.return_window_days
    platform.settings.return_window_days = 3
    try:
        page = await client.get(f"/products/{product['id']}", headers=HTML)
        assert "3-day no-reason returns after delivery." in page.text and "7-day" not in page.text
        c = await browser_for(client, supplier)
        await c.get("/lang/zh_Hans")
        returns = await c.get("/supplier/returns", headers=HTML)
        assert "买家签收后 3 天内可退回大多数商品" in returns.text
        await c.aclose()
    finally:
        platform.settings.return_window_days = before


async def test_one_refusal_names_every_mistake_the_commission_range_among_them(client: httpx.AsyncClient) -> None:
    refused = await new_product(client, commission="81", sku0_price="¥12")
    assert refused.status_code == 422
    assert "between 1% and 80%" in refused.text and "Each SKU needs" in refused.text
    for too_much in ("150", "-5"):  # a number, just out of range: the range is what to say
        refused = await new_product(client, commission=too_much)
        assert refused.status_code == 422 and "between 1% and 80%" in refused.text, too_much
        assert "like 12.5" not in refused.text, too_much


async def test_a_draft_is_announced_as_a_draft_and_an_emptied_title_is_refused(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    c = await browser_for(client, supplier)
    page = await c.get("/supplier/products/new", headers=HTML)
    form = {
        "csrf_token": csrf_of(page.text),
        **NEW_PRODUCT_FORM,
        "description": "a\r\n" * 2498 + "end.",  # 5,000 characters as the browser counts them
        "status": "draft",
    }
    r = await c.post("/supplier/products/new", data=form, headers=HTML)
    landing = await c.get(r.headers["location"], headers=HTML)
    assert "Saved as a draft." in landing.text and "Product listed." not in landing.text
    product_id = r.headers["location"].rsplit("/", 1)[1]
    got = (await client.get(f"/api/v1/products/{product_id}", headers=supplier.headers)).json()
    assert got["description"].endswith("end.") and len(got["description"]) == 5000
    edit = {
        "csrf_token": csrf_of(landing.text),
        "title": "",
        "description": "d",
        "commission": "10",
        "commission_shown": "1000",
        "status": "draft",
        "status_shown": "draft",
    }
    r = await c.post(f"/supplier/products/{product_id}", data=edit, headers=HTML)
    assert r.status_code == 422 and "Give the product a title." in r.text
    assert (await client.get(f"/api/v1/products/{product_id}", headers=supplier.headers)).json()["title"] == "Tea"
    await c.aclose()
