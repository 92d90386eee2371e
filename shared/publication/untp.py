"""The passport as a UNTP Digital Product Passport credential (UNTP 0.7.0), enveloped as vc+jwt.

Each version is issued one on write, beside its SD-JWT (never on read): a W3C VCDM 2.0
credential, the JWS payload of a compact `vc+jwt` (VC-JOSE-COSE: header `typ: vc+jwt`, `cty: vc`,
`kid` the DID URL of the signing key's verification method in the issuer's did:web document),
stored with the version as `untpCredential` and served as it is (`?format=untp`, or
`Accept: application/vc+jwt` on the JSON-LD view). When a version's credential would say what the
previous version's says, that token is kept: no signature for an edit that changes none of it.

What it says is what an anonymous reader may see: it is built from the public view of the
document (`AccessControl.public_document`), never from a restricted section or element, because
it is served to anyone and cached publicly. The mapping (docs/interoperability.md has the table):

- `issuer`: the economic operator's DID under the service's did:web (the SD-JWT's `iss`), named by
  its manufacturer name, with the operator id in `issuerAlsoKnownAs`;
- `credentialSubject` (a UNTP `Product`): the product id (a Digital Link URI on this resolver for
  GS1 ids; the carrier's short URL for an id that is no URI), its name, its granularity, the
  identifier scheme (GS1 GTIN, or the operator's own), the economic operator as `relatedParty`,
  the facility (`facilityId`), the country of production, the materials with their mass
  fractions as `materialProvenance`, and every public content section under `characteristics`;
  UNTP requires a facility and a country, so a passport stating neither names them "not stated";
- `credentialStatus`: the passport's entry in a Bitstring Status List (shared/publication/
  status_lists.py); `validFrom`/`validUntil`: the version label's validity.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Protocol

from shared.access.authorization import AccessControl
from shared.documents.digital_link import canonical_uri, is_digital_link
from shared.documents.members import sections
from shared.documents.text import is_multi_language, localized, product_name
from shared.integrity.did import operator_did
from shared.integrity.sealer import Sealer
from shared.passports.core_data import carrier_uri, payload_of
from shared.passports.records import PassportItem
from shared.platform.errors import ErrorCode, NotFound
from shared.publication.status_lists import (
    CTY,
    PURPOSE,
    TYP,
    StatusEntry,
    StatusLists,
    StatusListUrls,
    stored_entry,
)

VERSION = "0.7.0"
CONTEXT = ["https://www.w3.org/ns/credentials/v2", f"https://vocabulary.uncefact.org/untp/{VERSION}/context/"]
TYPE = ["DigitalProductPassport", "VerifiableCredential"]
MEDIA_TYPE = "application/vc+jwt"
FIELD = "untpCredential"
LANGUAGE = "en"
# A credential's id is a name (RFC 9562 version 5 UUID) of what it says, so an unchanged
# credential keeps its id and token; this namespace is the service's own.
ID_NAMESPACE = uuid.UUID("5b0c7f4e-3f5a-5d8e-9a41-7d1f5e0a9c11")
# UNTP requires a facility and a country of production; for a passport naming neither.
NOT_STATED_FACILITY = "urn:dpp:facility:not-stated"
NOT_STATED_COUNTRY = {"countryCode": "ZZ", "countryName": "Not stated"}  # ISO 3166 user-assigned
UNCLASSIFIED = "urn:dpp:material:unclassified"
GS1_GTIN = {"type": ["IdentifierScheme"], "id": "https://id.gs1.org/01", "name": "GS1 GTIN"}
GRANULARITIES = {"item": "item", "batch": "batch", "model": "model"}
MATERIAL_LISTS = ("materials", "Materials")
COUNTRY_KEYS = ("countryOfProduction", "CountryOfProduction", "countryOfOrigin", "CountryOfOrigin")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


class CredentialUrls(StatusListUrls, Protocol):
    """This deployment's URLs a credential names (functions.routes.Links at the public URL)."""

    def passport(self, dpp_id: str) -> str: ...


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and bool(_SCHEME.fullmatch(value))


def _text(value: Any) -> str | None:
    if is_multi_language(value):
        return localized(value, LANGUAGE)
    return value if isinstance(value, str) and value.strip() else None


def _manufacturer(public: dict[str, Any]) -> str:
    for section in sections(public).values():
        name = _text(section.get("ManufacturerName") or section.get("manufacturerName"))
        if name:
            return name
    return str(public["economicOperatorId"])


def _country(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2}", value):
        return {"countryCode": value.upper()}
    return None


def _production_country(public: dict[str, Any]) -> dict[str, Any]:
    for section in sections(public).values():
        for key in COUNTRY_KEYS:
            found = _country(section.get(key))
            if found:
                return found
    return dict(NOT_STATED_COUNTRY)


def _fraction(material: dict[str, Any]) -> float | None:
    for key, scale in (("massFraction", 1), ("share", 1), ("percentage", 100), ("percent", 100)):
        value = material.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            fraction = value / scale
            return float(fraction) if 0 <= fraction <= 1 else None
    return None


def _materials(public: dict[str, Any]) -> list[dict[str, Any]]:
    """The public document's material lists (`materials: [{name, percentage|share}]`)."""
    found: list[dict[str, Any]] = []
    for section in sections(public).values():
        for key in MATERIAL_LISTS:
            for material in section.get(key) or []:
                if not isinstance(material, dict):
                    continue
                name, fraction = _text(material.get("name") or material.get("Name")), _fraction(material)
                if name is None or fraction is None:
                    continue
                origin = _country(material.get("originCountry") or material.get("countryOfOrigin"))
                found.append(
                    {
                        "name": name,
                        "originCountry": origin or dict(NOT_STATED_COUNTRY),
                        "materialType": {
                            "code": name,
                            "name": name,
                            "schemeId": UNCLASSIFIED,
                            "schemeName": "Not classified: the material as the passport names it",
                        },
                        "massFraction": fraction,
                    }
                )
    return found


def product(
    record: dict[str, Any], public: dict[str, Any], issuer: str, public_url: str, maker: str
) -> dict[str, Any]:
    """The UNTP `Product` a version's public document describes; `maker` its manufacturer's name."""
    product_id = str(public["uniqueProductIdentifier"])
    if is_digital_link(product_id):
        subject_id = canonical_uri(product_id, public_url) or product_id
        scheme = dict(GS1_GTIN)
    else:
        subject_id = (
            product_id if _is_uri(product_id) else carrier_uri(product_id, record["dppId"], public_url)
        )
        scheme = {
            "type": ["IdentifierScheme"],
            "id": issuer,
            "name": f"Product ids of {maker}",
        }
    operator = str(public["economicOperatorId"])
    facility = public.get("facilityId")
    subject: dict[str, Any] = {
        "type": ["Product"],
        "id": subject_id,
        "name": product_name(sections(public), LANGUAGE) or product_id,
        "idScheme": scheme,
        "idGranularity": GRANULARITIES.get(str(public.get("granularity", "")).lower(), "model"),
        "productCategory": [],
        "relatedParty": [
            {
                "role": "manufacturer",
                "party": {
                    "type": ["Party"],
                    "id": operator if _is_uri(operator) else issuer,
                    "name": maker,
                },
            }
        ],
        "producedAtFacility": {
            "type": ["Facility"],
            "id": facility if _is_uri(facility) else NOT_STATED_FACILITY,
            "name": str(facility) if facility else "Not stated in the passport",
        },
        "countryOfProduction": _production_country(public),
        "characteristics": sections(public),
    }
    materials = _materials(public)
    if materials:
        subject["materialProvenance"] = materials
    return subject


def credential(
    record: dict[str, Any],
    public: dict[str, Any],
    issuer: str,
    entry: StatusEntry,
    *,
    urls: CredentialUrls,
    public_url: str,
) -> dict[str, Any]:
    """The credential (the JWS payload) for a version: see the module docstring."""
    lifecycle = record["lifecycle"]
    maker = _manufacturer(public)
    subject = product(record, public, issuer, public_url, maker)
    list_url = urls.status_list(entry.list_id)
    operator = str(public["economicOperatorId"])
    named: dict[str, Any] = {"type": ["CredentialIssuer"], "id": issuer, "name": maker}
    if _is_uri(operator):
        named["issuerAlsoKnownAs"] = [{"type": ["Party"], "id": operator, "name": maker}]
    body: dict[str, Any] = {
        "@context": list(CONTEXT),
        "type": list(TYPE),
        "issuer": named,
        "validFrom": lifecycle["validFrom"],
        "name": f"Digital Product Passport: {subject['name']} ({lifecycle['versionLabel']})",
        "credentialStatus": {
            "type": "BitstringStatusListEntry",
            "id": f"{list_url}#{entry.index}",
            "statusPurpose": PURPOSE,
            "statusListIndex": entry.index,
            "statusListCredential": list_url,
        },
        "credentialSubject": subject,
    }
    if lifecycle.get("validTo"):
        body["validUntil"] = lifecycle["validTo"]
    subject["relatedDocument"] = [
        {
            "linkURL": urls.passport(record["dppId"]),
            "linkName": "The EN 18222 passport, with its SD-JWT presentation",
            "mediaType": "application/json",
        }
    ]
    said = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {"id": f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, said)}", **body}


class UntpCredentials:
    """Issues a version's UNTP credential on write (Issuance calls it with the record it seals)."""

    def __init__(
        self,
        sealer: Sealer,
        access: AccessControl,
        *,
        status_lists: StatusLists,
        service_did: str,
        public_url: str,
        urls: CredentialUrls,
    ):
        self.sealer = sealer
        self.access = access
        self.status_lists = status_lists
        self.service_did = service_did
        self.public_url = public_url
        self.urls = urls

    def issue(self, record: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
        """The members a version stores: its status entry (the passport's, from its first
        version on) and its credential (the previous version's when it would say the same)."""
        entry = stored_entry(record) or stored_entry(previous or {}) or self.status_lists.allocate()
        public = self.access.public_document(record["document"], record.get("accessPolicy"))
        issuer = operator_did(self.service_did, str(record["document"]["economicOperatorId"]))
        payload = credential(record, public, issuer, entry, urls=self.urls, public_url=self.public_url)
        old = (previous or {}).get(FIELD)
        if isinstance(old, str) and payload_of(old) == payload:
            token = old
        else:
            token = self.sealer.jws_under_did(payload, issuer, {"typ": TYP, "cty": CTY})
        return {"credentialStatus": entry.stored(), FIELD: token}


def stored_credential(version: PassportItem) -> str:
    """The version's UNTP credential as issued on write; a version written before the service
    issued them has none (its passport's next write issues one: docs/interoperability.md)."""
    token = version.get(FIELD)
    if not isinstance(token, str):
        raise NotFound(
            f"Version {version['version']} of this passport was written before UNTP credentials were "
            "issued; the passport's next write issues one",
            code=ErrorCode.CREDENTIAL_NOT_ISSUED,
        )
    return token
