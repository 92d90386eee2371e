"""The JSON-LD context every passport view names: one vocabulary for the seed contract's terms."""

from __future__ import annotations

from typing import Any


def context_document() -> dict[str, Any]:
    """The JSON-LD context every view names (served by the publication area).

    Terms map into one vocabulary; content sections (`<section>Inline`) fall under `@vocab`.
    """
    return {
        "@context": {
            "@version": 1.1,
            "@vocab": "urn:dpp:vocab:",
            "dpp": "urn:dpp:vocab:",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "type": "@type",
            "subject": {"@id": "dpp:subject", "@type": "@id"},
            "issuer": {"@id": "dpp:issuer", "@type": "@id"},
            "issuedAt": {"@id": "dpp:issuedAt", "@type": "xsd:dateTime"},
            "validFrom": {"@id": "dpp:validFrom", "@type": "xsd:dateTime"},
            "validTo": {"@id": "dpp:validTo", "@type": "xsd:dateTime"},
            "revokedAt": {"@id": "dpp:revokedAt", "@type": "xsd:dateTime"},
            "supersededBy": {"@id": "dpp:supersededBy", "@type": "@id"},
            "status": "dpp:status",
            "contentHash": "dpp:contentHash",
            "signature": "dpp:signature",
            "uri": "dpp:uri",
            "hash": "dpp:hash",
            "mediaType": "dpp:mediaType",
            "size": {"@id": "dpp:size", "@type": "xsd:integer"},
            "downloadUrl": {"@id": "dpp:downloadUrl", "@type": "@id"},
            "litePreview": {"@id": "dpp:litePreview", "@type": "@json"},
            "disclosure": {"@id": "dpp:disclosure", "@type": "@json"},
            "relatedPassports": {"@id": "dpp:relatedPassports", "@type": "@json"},
        }
    }
