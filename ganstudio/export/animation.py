"""Animations of latent paths: GIF, MP4 or a folder of PNG frames (no Qt).

Frames arrive one at a time from a renderer (an iterator), so nothing holds the whole
animation in memory and a long export can be stopped between two frames; a stopped export
leaves nothing behind. Every format records where it came from: the GIF in a comment, the MP4
in its ``comment`` metadata tag, each PNG frame in its text chunks (with that frame's latent).

* **GIF** — written frame by frame with Pillow's GIF encoder, each frame with its own palette;
  every frame is written, identical neighbours included, so a viewer counts exactly the
  frames asked for.
* **MP4** — H.264 (yuv420p, what players expect) through the ffmpeg binary bundled by the
  ``imageio-ffmpeg`` package; odd sizes are padded by one pixel of edge colour (the codec
  needs even sides).
* **Frames** — ``frame-0000.png``, ``frame-0001.png``… in a folder, lossless.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from ganstudio.export.png import save_png

GIF, MP4, FRAMES = "gif", "mp4", "frames"
FORMATS = (GIF, MP4, FRAMES)
FPS_RANGE = (1, 60)
FRAME_NAME = "frame-{:04d}.png"

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]
FrameMeta = Callable[[int], Mapping[str, Any]]


def animation_format(path: Path | str) -> str:
    """``gif`` or ``mp4`` from the suffix; a path without one (or a folder) is a frame folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return GIF
    if suffix == ".mp4":
        return MP4
    if suffix == "" or path.is_dir():
        return FRAMES
    raise ValueError(f"{path}: an animation is written as .gif, .mp4 or a folder of PNG frames "
                     f"(a name without a suffix), not {suffix}")


def mp4_available() -> bool:
    try:
        import imageio_ffmpeg

        return Path(imageio_ffmpeg.get_ffmpeg_exe()).is_file()
    except Exception:
        return False


def _check_fps(fps: float) -> float:
    lo, hi = FPS_RANGE
    if not lo <= fps <= hi:
        raise ValueError(f"frames per second must be {lo} to {hi}, not {fps:g}")
    return float(fps)


def write_animation(path: Path | str, frames: Iterable[np.ndarray], count: int, *,
                    fps: float = 24, provenance: Mapping[str, Any] | None = None,
                    frame_metadata: FrameMeta | None = None, progress: Progress | None = None,
                    should_stop: ShouldStop | None = None) -> Path | None:
    """Write ``count`` uint8 ``(H, W, C)`` frames as the format ``path`` names.

    Returns the path written, or None when ``should_stop`` said so (nothing is left behind).
    ``frame_metadata(i)`` adds to frame ``i``'s PNG text (frame folders only).
    """
    path = Path(path)
    kind = animation_format(path)
    fps = _check_fps(fps)
    if count < 1:
        raise ValueError("an animation needs at least one frame")
    meta = {**dict(provenance or {}), "frames": int(count), "fps": fps, "format": kind}
    stream = _counted(frames, count, progress, should_stop)
    if kind == FRAMES:
        return _write_frames(path, stream, meta, frame_metadata)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent}: no such folder")
    temporary = path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        written = (_write_gif if kind == GIF else _write_mp4)(temporary, stream, fps, meta)
        if not written:
            temporary.unlink(missing_ok=True)
            return None
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


class _Stopped(Exception):
    pass


def _counted(frames: Iterable[np.ndarray], count: int, progress: Progress | None,
             should_stop: ShouldStop | None) -> Iterator[np.ndarray]:
    produced = 0
    for frame in frames:
        if should_stop is not None and should_stop():
            raise _Stopped
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3:
            raise ValueError("animation frames are uint8 (H, W, C) images")
        yield frame
        produced += 1
        if progress is not None:
            progress(produced, count)
        if produced == count:
            break
    if produced != count:
        raise ValueError(f"{produced} frames were made, {count} were expected")


def _write_frames(folder: Path, stream: Iterator[np.ndarray], meta: dict[str, Any],
                  frame_metadata: FrameMeta | None) -> Path | None:
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file, not a folder for the frames")
    if folder.is_dir() and any(folder.glob("frame-*.png")):
        raise FileExistsError(f"{folder} already holds frames; choose an empty or new folder")
    if not folder.parent.is_dir():
        raise FileNotFoundError(f"{folder.parent}: no such folder")
    # Frames go to a hidden sibling first: a stopped or failed export leaves nothing.
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for index, frame in enumerate(stream):
            extra = dict(frame_metadata(index)) if frame_metadata is not None else {}
            save_png(staging / FRAME_NAME.format(index),
                     frame, {**meta, "frame": index, **extra})
    except _Stopped:
        shutil.rmtree(staging, ignore_errors=True)
        return None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if folder.is_dir():     # an existing empty folder: move the frames in
        for item in sorted(staging.iterdir()):
            item.replace(folder / item.name)
        staging.rmdir()
    else:
        staging.replace(folder)
    return folder


def _to_pil(frame: np.ndarray):
    from PIL import Image

    if frame.shape[2] == 1:
        return Image.fromarray(frame[:, :, 0], "L").convert("P")
    rgb = Image.fromarray(np.ascontiguousarray(frame[:, :, :3]), "RGB")
    return rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def _write_gif(path: Path, stream: Iterator[np.ndarray], fps: float,
               meta: dict[str, Any]) -> bool:
    from PIL import GifImagePlugin

    duration = max(20, int(round(1000.0 / fps / 10.0)) * 10)   # GIF stores 1/100 s
    comment = json.dumps(meta, sort_keys=True, default=str).encode()[:60000]
    try:
        with open(path, "wb") as handle:
            size = None
            for index, frame in enumerate(stream):
                image = _to_pil(frame)
                if size is None:
                    size = image.size
                    header, _used = GifImagePlugin.getheader(
                        image, None, {"loop": 0, "comment": comment, "duration": duration})
                    handle.write(b"".join(header))
                elif image.size != size:
                    raise ValueError("animation frames differ in size")
                for chunk in GifImagePlugin.getdata(image, (0, 0), duration=duration,
                                                    include_color_table=index > 0):
                    handle.write(bytes(chunk))
            handle.write(b";")
    except _Stopped:
        return False
    return True


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    if frame.shape[2] == 1:
        frame = np.repeat(frame, 3, axis=2)
    return np.ascontiguousarray(frame[:, :, :3])


def _write_mp4(path: Path, stream: Iterator[np.ndarray], fps: float,
               meta: dict[str, Any]) -> bool:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise RuntimeError("MP4 export needs the imageio-ffmpeg package "
                           "(pip install imageio-ffmpeg)") from None
    comment = json.dumps(meta, sort_keys=True, default=str)[:4000]
    writer = None
    try:
        for frame in stream:
            frame = _even(frame)
            if writer is None:
                h, w = frame.shape[:2]
                writer = imageio_ffmpeg.write_frames(
                    str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                    quality=8, macro_block_size=1, ffmpeg_log_level="error",
                    output_params=["-metadata", f"comment={comment}",
                                   "-movflags", "+faststart"])
                writer.send(None)
            writer.send(frame)
    except _Stopped:
        return False
    finally:
        if writer is not None:
            writer.close()
    return True


def count_frames(path: Path | str) -> int:
    """How many frames an animation written here holds (GIF, MP4 or frame folder)."""
    path = Path(path)
    kind = animation_format(path)
    if kind == FRAMES:
        return len(list(path.glob("frame-*.png")))
    if kind == GIF:
        from PIL import Image

        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    import imageio_ffmpeg

    frames, _seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return int(frames)

