"""Small previews for reviewers: a thumbnail of an image or of one video frame, blurred and in greyscale
unless a reviewer deliberately asks to see it clearly. Rendered in memory, never written to disk."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

import av
from PIL import Image, ImageFilter, ImageOps

from tipline.media.errors import MediaError
from tipline.media.images import open_image

THUMBNAIL_SIZE = 240
LARGE_SIZE = 1280  # the viewer's large picture (bounding box)
BLUR_RADIUS = {"strong": 18, "medium": 10, "light": 5}
VIEWER_STEPS = ("strong", "light", "none")  # the viewer's graduated blur, most protective first


@dataclass(frozen=True)
class PreviewStyle:
    blurred: bool = True
    greyscale: bool = True
    strength: str = "strong"  # strong, medium, light

    @property
    def radius(self) -> int:
        return BLUR_RADIUS.get(self.strength, BLUR_RADIUS["strong"])

    @property
    def step(self) -> str:
        """The viewer's blur step: strong, light or none."""
        return "none" if not self.blurred else ("strong" if self.strength == "strong" else "light")

    @property
    def code(self) -> str:
        """A short name for the look, as the viewer's links and reveal tokens carry it: `light-grey`, `none-colour`."""
        return f"{self.step}-{'grey' if self.greyscale else 'colour'}"

    @property
    def words(self) -> str:
        """The look in plain words: "Light blur, greyscale"."""
        blur = {"strong": "Strong blur", "light": "Light blur", "none": "No blur"}[self.step]
        return f"{blur}, {'greyscale' if self.greyscale else 'colour'}"

    @classmethod
    def from_code(cls, code: str) -> PreviewStyle | None:
        step, _, colour = code.partition("-")
        if step not in VIEWER_STEPS or colour not in ("grey", "colour"):
            return None
        return cls(blurred=step != "none", greyscale=colour == "grey", strength=step if step != "none" else "strong")

    def within(self, granted: PreviewStyle) -> bool:
        """True when this look shows no more than `granted` does (as blurred or more, greyscale if it is)."""
        return (VIEWER_STEPS.index(self.step) <= VIEWER_STEPS.index(granted.step)
                and (self.greyscale or not granted.greyscale))


VIEWER_DEFAULT = PreviewStyle(blurred=True, greyscale=True, strength="strong")
"""How the viewer shows every file until the analyst deliberately asks for less blur or colour."""


class PreviewUnavailable(MediaError):
    """This file has no picture to preview (not an image or video, or unreadable)."""


def _video_frame(source: BinaryIO, at_seconds: float = 1.0) -> Image.Image:
    try:
        with av.open(source, mode="r") as container:
            stream = next((s for s in container.streams if s.type == "video"), None)
            if stream is None:
                raise PreviewUnavailable("the video has no picture stream")
            first = None
            for frame in container.decode(stream):
                if not isinstance(frame, av.VideoFrame):  # a video stream decodes to pictures only
                    continue
                first = first or frame
                if at_seconds <= 0 or (frame.time is not None and frame.time >= at_seconds):
                    picture: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
                    return picture
            if first is None:
                raise PreviewUnavailable("the video has no decodable frame")
            still: Image.Image = first.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
            return still
    except av.error.FFmpegError as error:
        raise PreviewUnavailable(f"the video cannot be decoded ({error})") from error


def render_preview(source: BinaryIO, kind: str, style: PreviewStyle, size: int = THUMBNAIL_SIZE,
                   frame_at: float = 1.0) -> bytes:
    """A JPEG thumbnail of the file (for a video, a frame about `frame_at` seconds in: 0 for its poster frame,
    the first that decodes)."""
    if kind == "image":
        image = open_image(source)
        image.draft("RGB", (size * 2, size * 2))  # JPEG decodes at reduced scale
        image = ImageOps.exif_transpose(image)
    elif kind == "video":
        image = _video_frame(source, frame_at)
    else:
        raise PreviewUnavailable(f"a {kind} file has no picture to preview")
    image = image.convert("RGB")
    image.thumbnail((size, size))
    if style.greyscale:
        image = ImageOps.grayscale(image).convert("RGB")
    if style.blurred:  # the radius is for a thumbnail: a larger picture is blurred as much relative to its size
        image = image.filter(ImageFilter.GaussianBlur(style.radius * max(1.0, max(image.size) / THUMBNAIL_SIZE)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()
