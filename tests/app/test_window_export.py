"""Exporting gallery snapshots: one at a chosen size, or all of them; provenance reads back."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt

from ganstudio.export.png import read_png_metadata

from .conftest import RUN_TIMEOUT_MS, make_run


def _open(make_window, qtbot, tmp_path):
    run = make_run(tmp_path / "export-run", steps=6)
    window = make_window(open_path=run, wait_for_preview=False)
    qtbot.waitUntil(lambda: window.gallery.count == 3, timeout=RUN_TIMEOUT_MS)
    return window, run


def test_export_one_snapshot_enlarged_with_its_provenance(make_window, qtbot, tmp_path):
    window, run = _open(make_window, qtbot, tmp_path)
    window.gallery.select(1)                                   # the grid of step 3
    assert window.gallery.current_step == 3 and not window.gallery.following
    qtbot.mouseClick(window.findChild(object, "exportSnapshotButton"), Qt.MouseButton.LeftButton)
    dialog = window.export_dialog
    qtbot.waitUntil(dialog.isVisible)
    target = tmp_path / "out" / "grid-step-3.png"
    dialog.findChild(object, "exportPath").setText(str(target))
    dialog.findChild(object, "exportScale").setValue(3)
    with qtbot.waitSignal(window.export_finished, timeout=RUN_TIMEOUT_MS) as done:
        qtbot.mouseClick(dialog.findChild(object, "exportOkButton"), Qt.MouseButton.LeftButton)
    assert done.args[0] == [target]

    source = run / "samples" / "step-000000003.png"
    with Image.open(source) as small, Image.open(target) as big:
        assert big.size == (small.width * 3, small.height * 3)
        assert big.resize(small.size, Image.Resampling.NEAREST).tobytes() == \
            small.convert(big.mode).tobytes()                  # nearest: pixels repeated
    meta = read_png_metadata(target)
    assert meta["run"] == str(run) and meta["step"] == 3 and meta["seed"] == 0
    assert meta["checkpoint"] == str(run / "checkpoints" / "step-000000003.pt")
    assert meta["latent"]["kind"] == "fixed noise batch" and meta["latent"]["count"] == 4
    assert meta["scale"] == 3 and meta["resample"] == "nearest"


def test_export_all_snapshots_into_a_folder(make_window, qtbot, tmp_path):
    window, run = _open(make_window, qtbot, tmp_path)
    qtbot.mouseClick(window.findChild(object, "exportAllSnapshotsButton"),
                     Qt.MouseButton.LeftButton)
    dialog = window.export_dialog
    qtbot.waitUntil(dialog.isVisible)
    folder = tmp_path / "all"
    dialog.findChild(object, "exportPath").setText(str(folder))
    dialog.findChild(object, "exportScale").setValue(1)
    with qtbot.waitSignal(window.export_finished, timeout=RUN_TIMEOUT_MS) as done:
        qtbot.mouseClick(dialog.findChild(object, "exportOkButton"), Qt.MouseButton.LeftButton)
    written = done.args[0]
    assert sorted(p.name for p in folder.iterdir()) == [
        "samples-step-000000000.png", "samples-step-000000003.png", "samples-step-000000006.png"]
    assert len(written) == 3
    for path in written:
        meta = read_png_metadata(path)
        step = int(path.stem.rsplit("-", 1)[1])
        assert meta["step"] == step and meta["run"] == str(run) and meta["seed"] == 0
        assert meta["kind"] == "fixed-noise grid"
    # Step 0 has no checkpoint of its own; steps 3 and 6 name theirs.
    assert read_png_metadata(folder / "samples-step-000000000.png")["checkpoint"] is None
    assert read_png_metadata(folder / "samples-step-000000006.png")["checkpoint"].endswith(
        "step-000000006.pt")


def test_a_file_name_that_is_not_a_png_is_refused_in_the_dialog(make_window, qtbot, tmp_path):
    window, _run = _open(make_window, qtbot, tmp_path)
    window.export_action.trigger()
    dialog = window.export_dialog
    dialog.findChild(object, "exportPath").setText(str(tmp_path / "grid.jpg"))
    assert not dialog.findChild(object, "exportOkButton").isEnabled()
    assert ".png" in dialog.findChild(object, "exportError").text()
    dialog.reject()
