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
BLUR_RADIUS = {"strong": 18, "medium": 10, "light": 5}


@dataclass(frozen=True)
class PreviewStyle:
    blurred: bool = True
    greyscale: bool = True
    strength: str = "strong"  # strong, medium, light

    @property
    def radius(self) -> int:
        return BLUR_RADIUS.get(self.strength, BLUR_RADIUS["strong"])


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
                if frame.time is not None and frame.time >= at_seconds:
                    picture: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
                    return picture
            if first is None:
                raise PreviewUnavailable("the video has no decodable frame")
            still: Image.Image = first.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
            return still
    except av.error.FFmpegError as error:
        raise PreviewUnavailable(f"the video cannot be decoded ({error})") from error


def render_preview(source: BinaryIO, kind: str, style: PreviewStyle, size: int = THUMBNAIL_SIZE) -> bytes:
    """A JPEG thumbnail of the file (for a video, a frame about one second in)."""
    if kind == "image":
        image = open_image(source)
        image.draft("RGB", (size * 2, size * 2))  # JPEG decodes at reduced scale
        image = ImageOps.exif_transpose(image)
    elif kind == "video":
        image = _video_frame(source)
    else:
        raise PreviewUnavailable(f"a {kind} file has no picture to preview")
    image = image.convert("RGB")
    image.thumbnail((size, size))
    if style.greyscale:
        image = ImageOps.grayscale(image).convert("RGB")
    if style.blurred:
        image = image.filter(ImageFilter.GaussianBlur(style.radius))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()
