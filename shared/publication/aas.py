"""A passport version as an Asset Administration Shell environment (IDTA-01001 Part 1, v3.0),
built with the Eclipse BaSyx Python SDK and written as AAS JSON or an AASX package.

What is exported is the reader's view (`PassportService.view`): a part the access policy keeps
from them is not in it. The environment holds one shell for the product (`globalAssetId` its
product id; its Digital Link URI on this resolver, when it is GS1-identified, as the specific
asset id `digitalLinkUri`), the `DppMetadata` submodel (IDTA-02099) with the header fields, one
submodel per content section (semanticId: the content specification it belongs to, when
`contentSpecificationIds` names one), and `Artifacts` with a File per artifact the reader may see.

Values map as IDTA-01001 describes: an object is a SubmodelElementCollection, a list a
SubmodelElementList, `[{"value", "language"}]` a MultiLanguageProperty, a scalar a Property of the
XSD type the full representation reports (`value_data_type`). A JSON key that is no valid idShort
(AASd-002: a letter first, then letters, digits, `_` or `-`, not ending with `-`; at most 128
characters) becomes one deterministically (`idshort`), and keeps its own spelling as displayName.

BaSyx is imported on first use: it costs every other request's cold start otherwise.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any, Protocol

from shared.documents.digital_link import canonical_uri
from shared.documents.id_shorts import (
    ARTIFACTS_ID_SHORT,
    DPP_METADATA_SEMANTIC_ID,
    METADATA_ID_SHORT,
    RESERVED_SUBMODELS,
    id_shorts,
    idshort,
)
from shared.documents.members import sections
from shared.documents.model import HEADER_FIELDS
from shared.documents.representation import dictionary_reference, value_data_type
from shared.documents.text import is_multi_language
from shared.platform.errors import BadRequest, ErrorCode
from shared.storage.links import BlobContent

if TYPE_CHECKING:
    from basyx.aas import model

    from shared.passports.service import PassportView

DIGITAL_LINK_ASSET_ID = "digitalLinkUri"
JSON_MEDIA_TYPE = "application/json"
AASX_MEDIA_TYPE = "application/asset-administration-shell-package+xml"
FORMATS: dict[str, str] = {"json": JSON_MEDIA_TYPE, "aasx": AASX_MEDIA_TYPE}
SHELL_ID_SHORT = "DigitalProductPassport"

# displayName texts are LangStringNameType: at most 128 characters (a longer key keeps its hash).
_MAX_NAME = 128
# LangStringTextType: a longer text is no MultiLanguageProperty, so it is exported as a list.
_MAX_LANG_TEXT = 1023


class AasLinks(Protocol):
    """The URLs the export names, as the HTTP layer builds them."""

    def passport(self, dpp_id: str) -> str: ...

    def artifact_content(self, product_id: str, version: str, artifact_type: str) -> str: ...


def parse_format(value: str | None) -> str:
    if value is None or value == "":
        return "json"
    if value not in FORMATS:
        raise BadRequest("'format' must be 'json' or 'aasx'", code=ErrorCode.INVALID_PARAMETER)
    return value


def export(view: PassportView, links: AasLinks, public_url: str, fmt: str) -> BlobContent:
    """The environment in `fmt` (see `parse_format`); an AASX package is an attachment."""
    store, shell_id = environment(view, links, public_url)
    if fmt == "aasx":
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", view.item["dppId"])[:100]
        disposition = f'attachment; filename="{name}.aasx"'
        return BlobContent(write_aasx(store, shell_id), AASX_MEDIA_TYPE, disposition)
    return BlobContent(write_json(store), JSON_MEDIA_TYPE)


def write_json(store: model.DictIdentifiableStore[model.Identifiable]) -> bytes:
    from basyx.aas.adapter.json import write_aas_json_file

    text = io.StringIO()
    write_aas_json_file(text, store)
    return text.getvalue().encode("utf-8")


def write_aasx(store: model.DictIdentifiableStore[model.Identifiable], shell_id: str) -> bytes:
    from basyx.aas.adapter.aasx import AASXWriter, DictSupplementaryFileContainer

    package = io.BytesIO()
    # Artifacts are named by URL, never embedded: the package has no supplementary files.
    files = DictSupplementaryFileContainer()  # type: ignore[no-untyped-call]  # unannotated in BaSyx 2.2
    # Not failsafe: a package missing a part it names is an error, not a warning in a log.
    with AASXWriter(package, failsafe=False) as writer:
        writer.write_aas(shell_id, store, files, write_json=True)
    return package.getvalue()


def environment(
    view: PassportView, links: AasLinks, public_url: str
) -> tuple[model.DictIdentifiableStore[model.Identifiable], str]:
    """The shell and its submodels, in a BaSyx object store, and the shell's id."""
    from basyx.aas import model

    shell, submodels = shell_and_submodels(view, links, public_url)
    return model.DictIdentifiableStore([shell, *submodels]), shell.id


def shell_id(links: AasLinks, dpp_id: str) -> str:
    return f"{links.passport(dpp_id)}/aas"


def submodel_id(links: AasLinks, dpp_id: str, short: str) -> str:
    return f"{links.passport(dpp_id)}/submodels/{short}"


def shell_and_submodels(
    view: PassportView, links: AasLinks, public_url: str
) -> tuple[model.AssetAdministrationShell, list[model.Submodel]]:
    """The shell and its submodels, as BaSyx objects."""
    from basyx.aas import model

    item, document = view.item, view.document
    dpp_id = item["dppId"]
    submodels = [_metadata(document, submodel_id(links, dpp_id, METADATA_ID_SHORT))]
    spec_ids = document.get("contentSpecificationIds")
    spec_ids = spec_ids if isinstance(spec_ids, list) else []
    content = sections(document)
    for short, key in id_shorts(content, RESERVED_SUBMODELS).items():
        reference = dictionary_reference(key, spec_ids)
        submodel = model.Submodel(
            submodel_id(links, dpp_id, short),
            id_short=short,
            display_name=_display_name(key, short),
            semantic_id=_global_reference(reference) if reference else None,
            submodel_element=_children(content[key]),
        )
        submodels.append(submodel)
    artifacts = view.shown.artifacts
    if artifacts:
        submodels.append(_artifacts(item, artifacts, links, submodel_id(links, dpp_id, ARTIFACTS_ID_SHORT)))
    shell = model.AssetAdministrationShell(
        _asset_information(document, public_url),
        shell_id(links, dpp_id),
        id_short=SHELL_ID_SHORT,
        submodel={model.ModelReference.from_referable(submodel) for submodel in submodels},
    )
    return shell, submodels


def _asset_information(document: dict[str, Any], public_url: str) -> model.AssetInformation:
    from basyx.aas import model

    product_id = str(document["uniqueProductIdentifier"])
    kinds = {"Item": model.AssetKind.INSTANCE, "Model": model.AssetKind.TYPE}
    kind = kinds.get(str(document.get("granularity")), model.AssetKind.NOT_APPLICABLE)
    link = canonical_uri(product_id, public_url)
    specific = [model.SpecificAssetId(DIGITAL_LINK_ASSET_ID, link)] if link else []
    return model.AssetInformation(kind, global_asset_id=product_id, specific_asset_id=specific)


def _global_reference(value: str) -> model.ExternalReference:
    from basyx.aas import model

    return model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, value),))


def _metadata(document: dict[str, Any], identifier: str) -> model.Submodel:
    from basyx.aas import model

    header = {name: document[name] for name in HEADER_FIELDS if name in document}
    return model.Submodel(
        identifier,
        id_short=METADATA_ID_SHORT,
        semantic_id=_global_reference(DPP_METADATA_SEMANTIC_ID),
        submodel_element=_children(header),
    )


def _artifacts(item: Any, references: dict[str, Any], links: AasLinks, identifier: str) -> model.Submodel:
    from basyx.aas import model

    files = []
    for artifact_type, reference in references.items():
        url = links.artifact_content(item["productId"], item["label"], artifact_type)
        media_type = reference.get("mediaType") if isinstance(reference, dict) else None
        files.append(model.File(idshort(artifact_type), str(media_type or "application/octet-stream"), url))
    return model.Submodel(identifier, id_short=ARTIFACTS_ID_SHORT, submodel_element=files)


# -- elements ---------------------------------------------------------------------------------


def _display_name(key: str, short: str) -> model.MultiLanguageNameType | None:
    from basyx.aas import model

    if key == short or not key or len(key) > _MAX_NAME:
        return None
    return model.MultiLanguageNameType({"en": key})


def _children(value: dict[str, Any]) -> list[model.SubmodelElement]:
    elements = []
    for short, key in id_shorts(value).items():
        element = _element(short, value[key])
        element.display_name = _display_name(key, short)
        elements.append(element)
    return elements


def _element(short: str | None, value: Any) -> model.SubmodelElement:
    from basyx.aas import model

    texts = _language_texts(value)
    if texts is not None:
        return model.MultiLanguageProperty(short, value=texts)
    if isinstance(value, dict):
        return model.SubmodelElementCollection(short, value=_children(value))
    if isinstance(value, list):
        return _list(short, value)
    xsd, typed = _scalar(value)
    return model.Property(short, value_type=xsd, value=typed)


def _language_texts(value: Any) -> model.MultiLanguageTextType | None:
    """The texts as a MultiLanguageProperty's value, where BaSyx takes them as one: one per
    language, each 1 to 1023 characters, each tag BCP 47; any other such list is exported as the
    list of objects it also is."""
    from basyx.aas import model

    if not is_multi_language(value):
        return None
    texts = {item["language"]: item["value"] for item in value}
    if len(texts) != len(value) or not all(0 < len(text) <= _MAX_LANG_TEXT for text in texts.values()):
        return None
    try:
        return model.MultiLanguageTextType(texts)
    except ValueError:
        return None


def _list(short: str | None, values: list[Any]) -> model.SubmodelElement:
    """A SubmodelElementList: its items, idShort-less (AASd-120), all of one element type and, for
    Properties, one value type (AASd-108, AASd-109); mixed scalars are exported as strings, a list
    mixing scalars and structures as collections, each scalar as its `value`."""
    from basyx.aas import model

    items = [_element(None, value) for value in values]
    kinds = {type(item) for item in items}
    if len(kinds) > 1:
        items = [_wrapped(item, value) for item, value in zip(items, values, strict=True)]
    elif kinds == {model.Property}:
        types = {item.value_type for item in items if isinstance(item, model.Property)}
        if len(types) > 1:
            items = [_as_string(item) for item in items if isinstance(item, model.Property)]
    kind = type(items[0]) if items else model.SubmodelElementCollection
    value_type = items[0].value_type if items and isinstance(items[0], model.Property) else None
    return model.SubmodelElementList(
        short, type_value_list_element=kind, value=items, value_type_list_element=value_type
    )


def _wrapped(item: model.SubmodelElement, value: Any) -> model.SubmodelElement:
    from basyx.aas import model

    if isinstance(item, model.SubmodelElementCollection):
        return item
    item.id_short = "value"
    return model.SubmodelElementCollection(None, value=[item])


def _as_string(item: model.Property) -> model.Property:
    from basyx.aas import model
    from basyx.aas.model import datatypes

    text = None if item.value is None else datatypes.xsd_repr(item.value)
    return model.Property(None, value_type=datatypes.String, value=text)


def _scalar(value: Any) -> tuple[Any, Any]:
    """The XSD type and the BaSyx value of a JSON scalar (null: a string Property with no value)."""
    from basyx.aas.model import datatypes

    if value is None:
        return datatypes.String, None
    types = {
        "xsd:boolean": datatypes.Boolean,
        "xsd:integer": datatypes.Integer,
        "xsd:double": datatypes.Double,
        "xsd:dateTime": datatypes.DateTime,
        "xsd:date": datatypes.Date,
        "xsd:anyURI": datatypes.AnyURI,
    }
    xsd = types.get(value_data_type(value), datatypes.String)
    if xsd in (datatypes.Boolean, datatypes.Integer, datatypes.Double):
        return xsd, xsd(value)
    try:
        return xsd, datatypes.from_xsd(str(value), xsd)
    except ValueError:
        # A leap second, or a lower-case `t`: valid RFC 3339, but no xs:dateTime BaSyx parses.
        return datatypes.String, str(value)
