"""The settings of files sent with (or as) a question: a group of ``Settings``
(``bridge.app.settings``), handed to the platforms as a ``FilePolicy``."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from bridge.files import DEFAULT_TYPES, MB, FilePolicy

_CONTENT_TYPE = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9.+-]*)/(\*|[A-Za-z0-9][A-Za-z0-9.+*-]*)$")


class FileSettings(BaseModel):
    """Photos, documents and voice notes sent with (or as) a question go to the agent (raia)."""

    files: bool = True
    files_max_mb: float = Field(default=20.0, gt=0, le=2048)  # Telegram bots download up to 20 MB
    files_max_count: int = Field(default=10, ge=1, le=100)
    files_types: str = ",".join(DEFAULT_TYPES)  # content types; "image/*" patterns

    @field_validator("files_types")
    @classmethod
    def _file_types(cls, value: str) -> str:
        for kind in (t.strip() for t in value.replace(";", ",").split(",")):
            if kind and not _CONTENT_TYPE.match(kind):
                raise ValueError(f"{kind!r} is not a content type such as image/png or image/*")
        return value

    @property
    def file_policy(self) -> FilePolicy | None:
        if not self.files:
            return None
        types = tuple(t.strip().lower() for t in self.files_types.replace(";", ",").split(",") if t.strip())
        return FilePolicy(max_bytes=int(self.files_max_mb * MB), max_count=self.files_max_count, types=types)
