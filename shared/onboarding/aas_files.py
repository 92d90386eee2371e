"""Asset Administration Shell environments (AAS JSON, AASX) read back as passport documents: the
inverse of the AAS export (`shared.publication.aas`), read with the Eclipse BaSyx Python SDK.

Each shell is one passport: its `DppMetadata` submodel (semanticId DPP_METADATA_SEMANTIC_ID)
holds the header fields, every other submodel it references is a content section (`Artifacts`
excepted: artifact references point into the exporting deployment, as in a JSON import). Values
map back as the export mapped them: a SubmodelElementCollection is an object, a
SubmodelElementList a list, a MultiLanguageProperty `[{"value", "language"}]`, a Property the JSON
scalar of its XSD type (booleans, integer and decimal types as numbers, every other type its XSD
text), a File its value. An element's key is its idShort, or its English displayName where the
idShort is the one the export gives that name (`may_stand_for`): a key that was no idShort gets
its own spelling back, a displayName that is just a label does not rename anything.

What does not come back as it was (the export's losses, see `shared.publication.aas`): a list
mixing scalars is a list of strings, a list mixing scalars and objects holds each scalar as
`{"value": scalar}`, and BaSyx writes an xs:dateTime in its own spelling (`Z` as `+00:00`,
fractions of a second to six digits): the same instant, other text.

BaSyx parses strictly (not failsafe): a file it cannot read whole is refused whole, never read in
part. BaSyx is imported on first use, as by the export.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from shared.documents.id_shorts import ARTIFACTS_ID_SHORT, DPP_METADATA_SEMANTIC_ID, may_stand_for
from shared.documents.model import HEADER_FIELDS

if TYPE_CHECKING:
    from basyx.aas import model

# The members of a JSON AAS environment (IDTA-01001 5.5): an object with one of them is one.
ENVIRONMENT_MEMBERS = ("assetAdministrationShells", "submodels", "conceptDescriptions")
# lxml's parser for an AASX's XML parts: no entities resolved, nothing fetched (XXE), no huge trees.
_XML_PARSER = {"resolve_entities": False, "no_network": True, "huge_tree": False}


class AasFileError(Exception):
    """The file as a whole is no AAS environment BaSyx reads (reason in str(exc))."""


class AasRejected(Exception):
    """One shell that cannot become a passport (reason in str(exc))."""


def is_environment(value: Any) -> bool:
    return isinstance(value, dict) and any(name in value for name in ENVIRONMENT_MEMBERS)


# -- reading ----------------------------------------------------------------------------------


def read_json_environment(text: str) -> model.DictIdentifiableStore[model.Identifiable]:
    from basyx.aas.adapter.json import read_aas_json_file

    try:
        return read_aas_json_file(io.StringIO(text), failsafe=False)
    except Exception as exc:  # BaSyx raises KeyError, TypeError or ValueError for a broken file
        raise AasFileError(f"The file is no AAS environment BaSyx reads ({_describe(exc)})") from None


def read_aasx_package(source: BinaryIO) -> model.DictIdentifiableStore[model.Identifiable]:
    """The objects of the package's AAS parts (JSON or XML); supplementary files are read past,
    never kept (an import takes no artifacts over)."""
    from basyx.aas import model
    from basyx.aas.adapter.aasx import AASXReader

    store: model.DictIdentifiableStore[model.Identifiable] = model.DictIdentifiableStore()
    xml = _has_xml_parts(source)
    try:
        with AASXReader(source, failsafe=False) as reader:
            reader.read_into(store, _skipped_files(), **(_XML_PARSER if xml else {}))
    except Exception as exc:  # not a zip, no aasx-origin, a broken part: BaSyx has no one error type
        raise AasFileError(f"The file is no AASX package BaSyx reads ({_describe(exc)})") from None
    return store


def _has_xml_parts(source: BinaryIO) -> bool:
    try:
        with zipfile.ZipFile(source) as archive:
            names = [name.lower() for name in archive.namelist()]
    except zipfile.BadZipFile:
        return False  # BaSyx says what is wrong with it
    finally:
        source.seek(0)
    return any(
        name.endswith(".xml") and not name.startswith("[content_types]") and "_rels/" not in name
        for name in names
    )


def _skipped_files() -> Any:
    from basyx.aas.adapter.aasx import AbstractSupplementaryFileContainer

    class SkippedFiles(AbstractSupplementaryFileContainer):
        """Supplementary files read through (BaSyx streams each into `add_file`) and dropped."""

        def __init__(self) -> None:
            self._files: dict[str, tuple[str, bytes]] = {}

        def add_file(self, name: str, file: IO[bytes], content_type: str) -> str:
            digest = hashlib.sha256()
            while chunk := file.read(1024 * 1024):
                digest.update(chunk)
            self._files[name] = (content_type, digest.digest())
            return name

        def get_content_type(self, name: str) -> str:
            return self._files[name][0]

        def get_sha256(self, name: str) -> bytes:
            return self._files[name][1]

        def write_file(self, name: str, file: IO[bytes]) -> None:
            raise KeyError(name)

        def delete_file(self, name: str) -> None:
            self._files.pop(name, None)

        def __contains__(self, item: object) -> bool:
            return item in self._files

        def __iter__(self) -> Iterator[str]:
            return iter(self._files)

    return SkippedFiles()


# -- shells to passports ----------------------------------------------------------------------


def passports(
    store: model.DictIdentifiableStore[model.Identifiable],
) -> Iterator[tuple[dict[str, Any] | None, str | None]]:
    """(document, None) or (None, why not) for each shell, in file order."""
    from basyx.aas import model

    shells = [item for item in store if isinstance(item, model.AssetAdministrationShell)]
    if not shells:
        raise AasFileError("The AAS environment holds no asset administration shell")
    for shell in shells:
        try:
            yield passport(shell, store), None
        except AasRejected as exc:
            yield None, f"shell '{shell.id}': {exc}"


def passport(
    shell: model.AssetAdministrationShell, store: model.DictIdentifiableStore[model.Identifiable]
) -> dict[str, Any]:
    from basyx.aas import model

    referenced = {reference.get_identifier() for reference in shell.submodel}
    # In file order: a shell's references are a set.
    submodels = [item for item in store if isinstance(item, model.Submodel) and item.id in referenced]
    missing = referenced - {submodel.id for submodel in submodels}
    if missing:
        raise AasRejected(f"references submodels the file does not hold: {', '.join(sorted(missing))}")
    metadata = [submodel for submodel in submodels if _semantic_id(submodel) == DPP_METADATA_SEMANTIC_ID]
    if len(metadata) != 1:
        raise AasRejected(
            f"has {len(metadata)} DppMetadata submodels (semanticId {DPP_METADATA_SEMANTIC_ID}); "
            "a passport needs exactly one"
        )
    document = _header(metadata[0], shell)
    for submodel in submodels:
        if submodel is metadata[0] or submodel.id_short == ARTIFACTS_ID_SHORT:
            continue
        key = _key(submodel)
        if key in document:
            raise AasRejected(f"two members are named '{key}' (submodel '{submodel.id}')")
        document[key] = _object(submodel.submodel_element, key)
    return document


def _header(metadata: model.Submodel, shell: model.AssetAdministrationShell) -> dict[str, Any]:
    header = _object(metadata.submodel_element, "DppMetadata")
    unknown = sorted(set(header) - set(HEADER_FIELDS))
    if unknown:
        raise AasRejected(f"DppMetadata holds elements that are no header fields: {', '.join(unknown)}")
    asset = shell.asset_information.global_asset_id
    product = header.setdefault("uniqueProductIdentifier", asset)
    if asset is not None and product != asset:
        raise AasRejected(
            f"its globalAssetId '{asset}' is not the uniqueProductIdentifier '{product}' of its DppMetadata"
        )
    return header


def _semantic_id(element: model.HasSemantics) -> str | None:
    keys = element.semantic_id.key if element.semantic_id else ()
    return str(keys[0].value) if len(keys) == 1 else None


def _key(element: model.Referable) -> str:
    """The JSON key an element stands for: its displayName's own spelling where the export gave
    that name this idShort, else its idShort."""
    short = str(element.id_short)
    names = element.display_name
    name = names.get("en") if names else None
    return name if name is not None and may_stand_for(short, name) else short


def _object(elements: Any, where: str) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for element in elements:
        key = _key(element)
        if key in value:
            raise AasRejected(f"two members of '{where}' are named '{key}'")
        value[key] = _value(element, f"{where}.{element.id_short}")
    return value


def _value(element: model.SubmodelElement, where: str) -> Any:
    from basyx.aas import model

    if isinstance(element, model.SubmodelElementCollection):
        return _object(element.value, where)
    if isinstance(element, model.SubmodelElementList):
        return [_value(item, f"{where}[{number}]") for number, item in enumerate(element.value)]
    if isinstance(element, model.MultiLanguageProperty):
        texts = element.value
        return [{"value": text, "language": language} for language, text in (texts or {}).items()]
    if isinstance(element, model.Property):
        return _scalar(element.value)
    if isinstance(element, model.File):
        return element.value
    raise AasRejected(f"'{where}' is a {type(element).__name__}, which no passport member stands for")


def _scalar(value: Any) -> Any:
    from basyx.aas.model import datatypes

    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    text = datatypes.xsd_repr(value)
    if isinstance(value, datatypes.Decimal):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


def _describe(exc: Exception) -> str:
    # BaSyx names the file object it was given; the uploader knows no such object.
    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+> ", "", str(exc))
    shown = text if len(text) <= 200 else text[:200] + "..."
    return f"{type(exc).__name__}: {shown}" if text else type(exc).__name__
