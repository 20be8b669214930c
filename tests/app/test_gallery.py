"""The gallery keeps every snapshot as a path, decodes off the GUI thread, bounded in memory."""

from __future__ import annotations

import numpy as np

from ganstudio.app.gallery import FULL_CACHE_SIZE, GalleryPanel, LRUCache
from ganstudio.export.png import save_png


def test_lru_cache_keeps_only_the_most_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert "b" not in cache and "a" in cache and len(cache) == 2


def test_a_long_run_stays_bounded_and_scrubbing_decodes_old_snapshots(qtbot, tmp_path):
    gallery = GalleryPanel()
    qtbot.addWidget(gallery)
    count = 3 * FULL_CACHE_SIZE
    for step in range(count):
        grid = np.full((10, 10, 3), step, dtype=np.uint8)
        path = save_png(tmp_path / f"step-{step:09d}.png", grid, {"step": step},
                        compress_level=1)
        gallery.add_snapshot(step, path, grid)
    assert gallery.count == count and gallery.current_step == count - 1 and gallery.following
    assert gallery.cached_images <= FULL_CACHE_SIZE

    gallery.slider.setValue(0)                     # scrub back to a snapshot not in memory
    assert gallery.current_step == 0 and not gallery.following
    qtbot.waitUntil(lambda: gallery.shown_image is not None
                    and gallery.shown_image.pixelColor(5, 5).red() == 0, timeout=10_000)
    gallery.follow_latest()
    assert gallery.current_step == count - 1
    assert gallery.shown_image.pixelColor(5, 5).red() == count - 1
    gallery.shutdown()
