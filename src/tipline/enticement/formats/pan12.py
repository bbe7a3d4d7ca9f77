"""PAN 2012 sexual-predator-identification XML, read one conversation at a time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tipline.enticement.conversation import Conversation, Message
from tipline.enticement.formats.base import (
    DEFAULT_LIMITS,
    ConversationFormatError,
    InputLimits,
    check_count,
    check_message,
    participants_of,
)

name = "pan12"


def detect(head: str, first: str, suffix: str) -> int:
    """An XML declaration or <conversations> (strongest); else a `.xml` name. (See registry.ChatFormat.)"""
    if head.startswith(("<?xml", "<conversations")):
        return 90
    return 40 if suffix == ".xml" else 0


def iter_pan12(source: str | bytes | Path, *, limits: InputLimits | None = None) -> Iterator[Conversation]:
    """Conversations of a PAN 2012 sexual-predator-identification XML file, one at a time (the corpus is large).

    `source` is a path or the XML itself. Entities are never resolved and nothing is fetched.
    """
    from lxml import etree

    fmt = "pan12"
    if isinstance(source, Path):
        stream: Any = open(source, "rb")  # noqa: SIM115 - closed in the finally below (a generator)
    else:
        stream = io.BytesIO(source.encode("utf-8") if isinstance(source, str) else source)
    try:
        context = etree.iterparse(
            stream, events=("end",), tag="conversation", resolve_entities=False, no_network=True, huge_tree=True
        )
        count = 0
        try:
            for _, element in context:
                count += 1
                if limits is not None and count > limits.max_conversations:
                    raise ConversationFormatError(
                        f"more than the limit of {limits.max_conversations} conversations",
                        line=element.sourceline,
                        format=fmt,
                    )
                yield _pan12_conversation(element, fmt, limits)
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
        except etree.XMLSyntaxError as error:
            raise ConversationFormatError(f"invalid XML: {error.msg}", line=error.lineno, format=fmt) from None
        if count == 0:
            raise ConversationFormatError("no <conversation> elements found", line=1, format=fmt)
    finally:
        stream.close()


def _pan12_conversation(element: Any, fmt: str, limits: InputLimits | None) -> Conversation:
    conv_id = element.get("id")
    if not conv_id:
        raise ConversationFormatError("<conversation> without an id attribute", line=element.sourceline, format=fmt)
    messages: list[Message] = []
    for position, node in enumerate(element.iterfind("message"), start=1):
        author = node.findtext("author")
        if author is None or not author.strip():
            raise ConversationFormatError("<message> without an <author>", line=node.sourceline, format=fmt)
        body = node.findtext("text") or ""
        if limits is not None:
            check_message(body, node.sourceline, fmt, limits)
        line = node.get("line") or str(position)
        messages.append(
            Message(line, author.strip(), body, (node.findtext("time") or "").strip() or None, node.sourceline)
        )
    if limits is not None:
        check_count(len(messages), element.sourceline, fmt, limits)
    return Conversation(conv_id, messages, participants_of(messages), None, fmt)


def parse_pan12(text: str, limits: InputLimits = DEFAULT_LIMITS) -> list[Conversation]:
    """PAN 2012 XML: `<conversations><conversation id><message line><author/><time/><text/></message>…`."""
    return list(iter_pan12(text, limits=limits))


parse = parse_pan12
