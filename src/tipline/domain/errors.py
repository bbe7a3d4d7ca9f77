"""The family of failures a person or a program can act on: each says its HTTP status, a stable code for
scripts and a title for people, so that the web layer answers all of them with one handler
(tipline.web.errors) and a new failure needs no handler of its own."""

from __future__ import annotations

from typing import Any, ClassVar, Self


class TiplineError(Exception):
    """A refusal with its reason (the message). Subclasses set `status`, `code` and `title`; they keep
    their other bases (LookupError, ValueError ...) so that callers catching those still catch them."""

    status: ClassVar[int] = 400
    """The HTTP status that answers it."""
    code: ClassVar[str] = "invalid_request"
    """The `error` member of the JSON answer: stable, for scripts."""
    title: ClassVar[str] = "Could not do that"
    """The heading of the page that answers a person."""
    always_json: ClassVar[bool] = False
    """Answered as JSON even to a browser (failures only an API raises)."""
    shows_changes: ClassVar[bool] = False
    """Refused because the asker's copy is out of date: the page drawn again shows what changed since."""
    field: str | None = None
    """The form field (or request member) the refusal is about, when it is about one."""

    def at_field(self, name: str) -> Self:
        """This refusal, said to be about the field `name` (a page puts the reason next to it)."""
        self.field = name
        return self

    def heading(self) -> str:
        """The heading of the page that answers a person (the class's title unless the refusal words its own)."""
        return self.title

    def on_page(self) -> str:
        """The reason as said on the page the refused form is drawn again on."""
        return str(self)

    def problem_details(self) -> dict[str, Any]:
        """Members of the JSON answer besides `error` and `message`."""
        return {}
