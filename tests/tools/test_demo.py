"""``animestyle demo``: the page's plain functions (no Gradio), then the page itself served on
127.0.0.1 and driven by headless Chromium (Debian's ``chromium`` and ``chromium-driver`` with
selenium), then ten concurrent requests from a client."""

from __future__ import annotations

import io
import os
import shutil
import socket
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from animestyle import load
from animestyle.inference import Model
from animestyle.tools import demo_actions
from animestyle.tools.demo_actions import choices, restyle

REPO = Path(__file__).resolve().parents[2]
PORTRAIT = REPO / "examples" / "portraits" / "portrait_0.png"  # 128 x 128


@pytest.fixture(scope="module")
def gadn(stage1: Path) -> Model:
    return load(stage1)


def _differs(a: Image.Image, b: Image.Image) -> bool:
    return bool(np.abs(np.asarray(a.convert("RGB"), float) - np.asarray(b.convert("RGB"), float)).mean() > 1)


# --- the plain functions --------------------------------------------------------------------


def test_choices_follow_what_each_model_can_do(gadn: Model, nst: Path, tiny_editor: Path) -> None:
    assert choices(gadn) == {"artists": gadn.artists, "reference": False, "attributes": []}
    assert choices(load(nst)) == {"artists": [], "reference": True, "attributes": []}
    editor = load(tiny_editor)
    assert choices(editor) == {"artists": [], "reference": False, "attributes": editor.attributes}


def test_a_picture_is_restyled_at_its_size_with_a_strip_of_artists(gadn: Model) -> None:
    done = restyle(gadn, PORTRAIT, artist=gadn.artists[1])
    assert done.ok, done.message
    with Image.open(PORTRAIT) as picture:
        assert done.input is not None and done.result is not None and done.strip is not None  # noqa: PT018
        assert done.result.size == picture.size
        assert _differs(done.result, picture)
    cell = done.strip.height
    assert done.strip.width == cell * min(demo_actions.STRIP, 1 + len(gadn.artists))  # input, then 5 artists


def test_the_editor_gets_a_strip_of_flipped_attributes(tiny_editor: Path) -> None:
    editor = load(tiny_editor)
    done = restyle(editor, PORTRAIT, attributes={editor.attributes[0]: "on"})
    assert done.ok, done.message
    assert done.strip is not None
    assert done.strip.width == done.strip.height * (1 + min(demo_actions.STRIP - 1, len(editor.attributes)))
    assert "switch at least one attribute" in restyle(editor, PORTRAIT, attributes={}).message


def test_a_style_image_model_reads_the_reference(nst: Path) -> None:
    model = load(nst)
    done = restyle(model, PORTRAIT, reference=REPO / "examples" / "portraits" / "portrait_3.png")
    assert done.ok, done.message
    assert done.strip is not None
    assert done.strip.size == (2 * done.strip.height, done.strip.height)  # the input, then in the chosen style
    assert restyle(model, PORTRAIT).message == "upload a style image"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("text", "the illustration is not an image that can be read"),
        ("missing", "upload the illustration first"),
        ("huge file", "the demo takes files up to"),
        ("huge picture", "M pixels; the demo takes up to"),
        ("unknown artist", "artist='nobody' is not one of this model's artists"),
        ("no face", "no face found: lower the threshold, or switch faces off"),
    ],
)
def test_bad_input_is_a_message_never_an_exception(
    case: str, words: str, gadn: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture: Path | None = PORTRAIT
    artist, faces = gadn.artists[0], False
    if case == "text":
        picture = tmp_path / "notes.png"
        picture.write_text("not an image")
    elif case == "missing":
        picture = None
    elif case == "huge file":
        monkeypatch.setattr(demo_actions, "MAX_BYTES", 100)
    elif case == "huge picture":
        monkeypatch.setattr(demo_actions, "MAX_PIXELS", 1000)
    elif case == "unknown artist":
        artist = "nobody"
    else:
        picture = tmp_path / "flat.png"
        Image.new("RGB", (200, 150), "white").save(picture)
        faces = True
    done = restyle(gadn, picture, artist=artist, faces=faces)
    assert not done.ok
    assert words in done.message
    assert done.result is None


# --- the page, served ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(gadn: Model) -> Iterator[str]:
    """The page of the tiny GADN model on 127.0.0.1, stopped after the module's tests."""
    pytest.importorskip("gradio", reason='the demo page needs Gradio: pip install -e ".[demo]"')
    from animestyle.tools.demo import build_page

    page = build_page(gadn)
    port = _free_port()
    page.queue(default_concurrency_limit=4).launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    yield f"http://127.0.0.1:{port}/"
    page.close()


def _browser() -> Any:
    """Headless Chromium through chromedriver; skipped, with the reason, where either is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -e '.[dev]'")
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.skip("no headless browser here: apt-get install chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1300"):
        options.add_argument(argument)
    try:
        return webdriver.Chrome(service=Service(driver), options=options)
    except WebDriverException as error:  # installed but unable to start here (e.g. a snap stub)
        pytest.skip(f"headless Chromium ({browser}) did not start: {str(error).splitlines()[0]}")


def test_the_page_in_a_real_browser(server: str, gadn: Model, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as when
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _browser()
    try:
        browser.get(server)
        wait = WebDriverWait(browser, 60)

        def run(picture: Path) -> None:
            for clear in browser.find_elements(By.CSS_SELECTOR, "#picture button[aria-label='Clear']"):
                clear.click()  # the previous upload
            upload = wait.until(when.presence_of_element_located((By.CSS_SELECTOR, "#picture input[type=file]")))
            upload.send_keys(str(picture))
            wait.until(when.invisibility_of_element_located((By.CSS_SELECTOR, "#picture .uploading")))
            browser.find_element(By.ID, "run").click()

        def message_reads(words: str) -> str:
            box = (By.CSS_SELECTOR, "#message textarea")
            wait.until(lambda b: words in b.find_element(*box).get_attribute("value"))
            return str(browser.find_element(*box).get_attribute("value"))

        # pick an artist in the dropdown, then restyle a portrait
        field = wait.until(when.element_to_be_clickable((By.CSS_SELECTOR, "#artist input")))
        field.click()
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(gadn.artists[2])
        field.send_keys(Keys.ENTER)
        run(PORTRAIT)
        message_reads("restyled the picture")
        result = wait.until(when.presence_of_element_located((By.CSS_SELECTOR, "#result img")))
        with urllib.request.urlopen(result.get_attribute("src"), timeout=30) as response:
            shown = Image.open(io.BytesIO(response.read()))
            shown.load()
        with Image.open(PORTRAIT) as picture:
            assert shown.size == picture.size
            assert _differs(shown, picture)
            assert not _differs(shown, restyle(gadn, PORTRAIT, artist=gadn.artists[2]).result or picture)
        browser.save_screenshot(str(tmp_path / "demo.png"))
        _keep_screenshot(tmp_path / "demo.png")

        # a text file named .png: a message on the page, and the page still works
        text = tmp_path / "notes.png"
        text.write_text("not an image")
        run(text)
        assert "not an image that can be read" in message_reads("not an image")
        run(PORTRAIT)
        message_reads("restyled the picture")
    finally:
        browser.quit()


def _keep_screenshot(path: Path) -> None:
    """With ``ANIMESTYLE_DOCS_SCREENSHOT=1``, the screenshot becomes docs/images/demo.png (the
    docs' picture of the page); otherwise a test run leaves the repository as it was."""
    if os.environ.get("ANIMESTYLE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(path, REPO / "docs" / "images" / "demo.png")


def test_ten_concurrent_requests_are_all_answered(server: str, gadn: Model) -> None:
    client_module = pytest.importorskip("gradio_client")
    client = client_module.Client(server, verbose=False)
    artists = [gadn.artists[k % len(gadn.artists)] for k in range(10)]
    api = client.view_api(return_format="dict", print_info=False)
    endpoint = next(iter(api["named_endpoints"]))

    def ask(artist: str) -> tuple[str, Any]:
        message, _, _, download, _ = client.predict(
            client_module.handle_file(str(PORTRAIT)), False, artist, None, api_name=endpoint
        )
        return message, download

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(ask, artists))
    assert len(answers) == 10
    for artist, (message, download) in zip(artists, answers, strict=True):
        assert message == "restyled the picture as one face crop"
        with Image.open(download) as got:
            expected = restyle(gadn, PORTRAIT, artist=artist).result
            assert expected is not None
            assert not _differs(got, expected)


def test_the_command_without_gradio_or_with_a_wrong_path_is_one_line(
    stage1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from animestyle.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)  # as if the demo extra were not installed
    with pytest.raises(SystemExit) as stopped:
        main(["demo", str(stage1)])
    assert str(stopped.value).startswith('animestyle demo: error: the demo page needs Gradio: pip install -e ".[demo]"')
    monkeypatch.undo()
    with pytest.raises(SystemExit) as stopped:
        main(["demo", str(tmp_path / "missing.ckpt"), "--port", str(_free_port())])
    assert str(stopped.value).startswith("animestyle demo: error: ")
    assert "missing.ckpt" in str(stopped.value)
