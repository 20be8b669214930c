"""The latest-request-wins renderer on its own: ordering, dropping, sources, shutdown."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from ganstudio.app.latent.renderer import LatentRenderer, qimage_from_array, start_worker_thread
from ganstudio.engine.sampling import GeneratorSource, latent_batch, render
from tests.export.tiny_generators import tiny_source

TIMEOUT_MS = 10_000


@pytest.fixture
def renderer():
    r = LatentRenderer()
    r.neighbour_delay_s = 0.0
    yield r
    r.shutdown()


def test_a_request_made_before_the_generator_is_built_is_rendered(qtbot, renderer):
    source = tiny_source()
    latent = latent_batch(source.nz, [3])[0].numpy()
    with qtbot.waitSignal(renderer.preview_ready, timeout=TIMEOUT_MS) as shown:
        renderer.set_source(source)
        request_id = renderer.request(latent, None)
    frame = shown.args[0]
    assert frame.request_id == request_id and frame.source is source
    np.testing.assert_array_equal(frame.image,
                                  render(source.build_for_inference(), latent[None])[0])


def test_clearing_then_setting_a_source_renders_the_newest_request(qtbot, renderer):
    first, second = tiny_source(seed=0), tiny_source(seed=1, nz=5)
    renderer.set_source(first)
    renderer.set_source(None)
    renderer.set_source(second)
    latent = latent_batch(5, [0])[0].numpy()

    def from_second(frame) -> bool:
        return frame.source is second
    with qtbot.waitSignal(renderer.preview_ready, timeout=TIMEOUT_MS, check_params_cb=from_second):
        renderer.request(latent, None)


def test_variations_of_a_superseded_latent_are_abandoned(qtbot, renderer, monkeypatch):
    source = tiny_source()
    renderer.set_source(source)
    tiles: list = []
    renderer.neighbour_ready.connect(tiles.append)
    gate, started = threading.Event(), threading.Event()
    original = renderer._render_tile

    def held(generator, src, request, index):
        if request.request_id == 1:
            started.set()
            gate.wait(5)
        original(generator, src, request, index)
    monkeypatch.setattr(renderer, "_render_tile", held)
    neighbours = latent_batch(source.nz, range(10, 19)).numpy()
    with qtbot.waitSignal(renderer.preview_ready, timeout=TIMEOUT_MS):
        renderer.request(latent_batch(source.nz, [1])[0].numpy(), None, neighbours)
    assert started.wait(5)                               # first variation of request 1 running
    renderer.request(latent_batch(source.nz, [2])[0].numpy(), None, neighbours + 1)
    gate.set()
    qtbot.waitUntil(lambda: sum(t.request_id == 2 for t in tiles) == 9, timeout=TIMEOUT_MS)
    assert [t.index for t in tiles if t.request_id == 1] == [0]   # the rest were dropped
    np.testing.assert_array_equal(tiles[-1].latent, neighbours[8] + 1)


def test_a_generator_that_cannot_be_built_is_reported(qtbot, renderer):
    good = tiny_source()
    broken = GeneratorSource(good.spec, {"main.0.weight": np.zeros((1, 1))}, 5, "broken.pt")
    with qtbot.waitSignal(renderer.failed, timeout=TIMEOUT_MS) as failure:
        renderer.set_source(broken)
    assert "broken.pt" in failure.args[0]


def test_shutdown_is_prompt_and_final(qtbot):
    renderer = LatentRenderer()
    source = tiny_source()
    renderer.set_source(source)
    with qtbot.waitSignal(renderer.preview_ready, timeout=TIMEOUT_MS):
        renderer.request(latent_batch(source.nz, [0])[0].numpy(), None)
    start = time.monotonic()
    assert renderer.shutdown(timeout=1.0)
    assert time.monotonic() - start < 1.0 and not renderer.is_running


def test_qimage_wraps_the_array_without_copying():
    pixels = np.zeros((4, 5, 3), np.uint8)
    image = qimage_from_array(pixels)
    assert (image.width(), image.height()) == (5, 4)
    pixels[1, 2] = (10, 200, 30)
    colour = image.pixelColor(2, 1)
    assert (colour.red(), colour.green(), colour.blue()) == (10, 200, 30)
    grey = np.full((3, 3, 1), 77, np.uint8)
    assert qimage_from_array(grey).pixelColor(1, 1).red() == 77


def test_worker_threads_use_one_torch_thread_and_leave_the_default_alone():
    before = torch.get_num_threads()
    seen = []
    thread = start_worker_thread(lambda: seen.append(torch.get_num_threads()), "t")
    thread.join(5)
    assert seen == [1] and torch.get_num_threads() == before
    later = []
    other = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
    other.start()
    other.join(5)
    assert later == [before]        # threads started afterwards get the process default
