"""The HTML pages in a real headless browser (Debian's chromium + chromium-driver, selenium):
they load without console errors, and hovering a node shows the number the engine computed.

Outside CI these skip, saying why, when chromium, its driver or selenium is missing; in CI
(``CI=true``) they must run, so a missing browser fails instead."""

from __future__ import annotations

import os
import shutil

import pytest

import tinygrad_nn as tg
from tinygrad_nn import viz
from tinygrad_nn.viz.describe import num

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install selenium)"
    if CHROMIUM is None or DRIVER is None:
        return "chromium or chromedriver not found (apt-get install chromium chromium-driver)"
    if shutil.which("dot") is None:
        return "Graphviz's dot is not installed (the pages embed its SVG)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but {reason}")
        print(f"skipping the browser tests: {reason}")
        pytest.skip(reason)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1600,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
    yield driver
    driver.quit()


def _micrograd():
    a, b = tg.Tensor(2.0, requires_grad=True), tg.Tensor(-3.0, requires_grad=True)
    c, f = tg.Tensor(10.0, requires_grad=True), tg.Tensor(-2.0, requires_grad=True)
    e = a * b
    d = e + c * a  # a is read twice: its gradient adds up two contributions
    return a, (d * f), {"a": a, "b": b, "c": c, "e": e, "d": d, "f": f}


def _open(driver, path) -> list[dict]:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.as_uri())
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _hover_text(driver, node) -> str:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    ActionChains(driver).move_to_element(node).perform()
    tip = driver.find_element(By.ID, "tip")
    assert tip.is_displayed()
    return tip.text


def test_to_html_page_shows_the_engines_numbers_on_hover(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    a, loss, names = _micrograd()
    graph = viz.trace(loss, names=names)
    loss.backward()
    page = viz.to_html(graph, tmp_path / "graph.html")
    assert _open(browser, page.path) == []
    a_id = next(n.id for n in graph.nodes.values() if n.name == "a")
    node = browser.find_element(By.CSS_SELECTOR, f"g.node#{a_id}")
    text = _hover_text(browser, node)
    assert f"data {num(float(a.data))}" in text and f"grad {num(float(a.grad.data))}" in text
    assert float(a.grad.data) == -14.0  # = f * (b + c), the two paths added
    node.click()
    assert "grad -14.0000" in browser.find_element(By.ID, "panel").text
    op = browser.find_element(By.CSS_SELECTOR, "g.node#op0")
    assert "rule d(x * y) = g * y, g * x" in _hover_text(browser, op)


def test_backward_steps_page_steps_through_the_frames(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    a, loss, names = _micrograd()
    steps = viz.backward_steps(loss, names=names)
    page = steps.to_html(tmp_path / "steps.html")
    assert _open(browser, page.path) == []

    def shown():
        return [f for f in browser.find_elements(By.CSS_SELECTOR, ".frame")
                if "shown" in f.get_attribute("class")]

    assert len(browser.find_elements(By.CSS_SELECTOR, ".frame")) == len(steps) == 5
    assert shown()[0].get_attribute("data-index") == "0"
    browser.find_element(By.ID, "next").click()
    assert shown()[0].get_attribute("data-index") == "1"
    assert "step 1 of 4: Mul" in shown()[0].text
    last = len(steps) - 1
    browser.execute_script(f"show({last})")
    frame = shown()[0]
    a_id = next(n.id for n in steps.graph.nodes.values() if n.name == "a")
    text = _hover_text(browser, frame.find_element(By.CSS_SELECTOR, f"g.node#{a_id}"))
    loss.backward()  # the engine's own answer, after the frames were made
    assert f"grad {num(float(a.grad.data))}" in text and "-14.0000" in text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
