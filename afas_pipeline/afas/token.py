"""The AFAS App Connector token: parsing, the Authorization header, and keeping it secret."""

from __future__ import annotations

import base64
import hmac
import re
from typing import NoReturn

from afas_pipeline.afas.errors import AfasConfigError

_XML = re.compile(
    r"^\s*<token>\s*<version>\s*(\d+)\s*</version>\s*<data>\s*([0-9A-Fa-f]{64})\s*</data>"
    r"\s*</token>\s*$"
)
_HEX = re.compile(r"^\s*([0-9A-Fa-f]{64})\s*$")
_EXPECTED = (
    "AFAS_TOKEN is not an AFAS token: expected the XML "
    "'<token><version>1</version><data>(64 hex characters)</data></token>' "
    "or only its 64 hex characters"
)


class AfasToken:
    """An App Connector token; it shows itself only as `AfasToken(***)`.

    Accepts the full XML an AFAS administrator copies from Profit, or only its 64-hex `data`
    part (which is wrapped in the XML, as other AFAS clients do).
    """

    __slots__ = ("_xml",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise AfasConfigError(_EXPECTED)
        match = _XML.match(value)
        if match:
            version, data = match.groups()
        else:
            match = _HEX.match(value)
            if not match:
                # Never echo the value: it may be a real token with a typo.
                raise AfasConfigError(_EXPECTED)
            version, data = "1", match.group(1)
        # Canonical form without whitespace: AFAS base64-encodes the exact string.
        self._xml = f"<token><version>{version}</version><data>{data}</data></token>"

    def authorization_header(self) -> str:
        """The value of the Authorization header: `AfasToken <base64 of the XML>`."""
        encoded = base64.b64encode(self._xml.encode("utf-8")).decode("ascii")
        return f"AfasToken {encoded}"

    def __repr__(self) -> str:
        return "AfasToken(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AfasToken):
            return NotImplemented
        return hmac.compare_digest(self._xml, other._xml)

    def __hash__(self) -> int:
        return hash((AfasToken, self._xml))

    def __reduce__(self) -> NoReturn:
        # Pickling would copy the secret into caches, logs or other processes.
        raise TypeError("AfasToken cannot be pickled; pass the AFAS_TOKEN variable instead")

    def __format__(self, format_spec: str) -> str:
        return repr(self)
