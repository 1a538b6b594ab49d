"""The inventory as a CycloneDX 1.6 AI-BOM, built with cyclonedx-python-lib.

One ``machine-learning-model`` component per model: the OCI manifest digest and every
file's SHA-256 as hashes, license, supplier and publisher (the hub organisation), a
package URL, ``pedigree.ancestors`` for declared base models, external references to the
signed decision (the registry's referrers of the manifest) and to the approval report,
curator's facts as ``curator:*`` properties, and a ``modelCard`` (``bom_card.py``).
"""

from __future__ import annotations

import json
from typing import Any

from curator.core.models import StageResult
from curator.export.bom_card import model_card
from curator.inventory.build import Inventory, InventoryEntry

SPEC_VERSION = "1.6"


def decision_location(entry: InventoryEntry) -> str:
    """Where the signed decision lives: the registry's referrers of the approved manifest."""
    registry = entry.registry
    if "://" in registry:
        return f"{registry.rstrip('/')}/v2/{entry.name}/referrers/{entry.manifest_digest}"
    return f"oci:{registry}:{entry.name}@{entry.manifest_digest}"


def _properties(entry: InventoryEntry) -> list[tuple[str, str]]:
    # the ref, revision and manifest digest are already bom-ref, version and hashes
    props = [("curator:status", entry.status), ("curator:review_id", entry.review_id),
             ("curator:decision_id", str(entry.decision.get("decision_id"))),
             ("curator:decision:curator", entry.curator),
             ("curator:decision:time", entry.approved_at), ("curator:files_digest", entry.files_digest),
             ("curator:source", entry.source),
             ("curator:age_days", str(entry.age_days)),
             ("curator:last_check", str((entry.last_check or {}).get("time") or "never"))]
    props += [("curator:reason", r) for r in entry.reasons]
    props += [(f"curator:scanner:{k}", v) for k, v in sorted(entry.scanners.items())]
    props += [(f"curator:waiver:{w.get('stage')}", f"until {w.get('expires')}: {w.get('reason')}")
              for w in entry.waivers]
    if entry.last_action:
        props.append(("curator:quarterly:last_action", f"{entry.last_action.get('action')} "
                                                        f"{entry.last_action.get('time')}"))
    return props


def _component(entry: InventoryEntry, results: dict[str, StageResult], report_base: str) -> Any:
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        HashAlgorithm,
        HashType,
        Property,
        XsUri,
    )
    from cyclonedx.model.component import Component, ComponentType, Pedigree
    from cyclonedx.model.contact import OrganizationalEntity
    from packageurl import PackageURL

    org, _, name = entry.repo_id.partition("/")
    hub = entry.source == "hub"
    purl = PackageURL(type="huggingface", namespace=org, name=name, version=entry.revision) if hub else None
    hashes = [HashType(alg=HashAlgorithm.SHA_256, content=entry.manifest_digest.split(":", 1)[-1])]
    ancestors = [Component(type=ComponentType.MACHINE_LEARNING_MODEL, name=base.partition("/")[2] or base,
                           group=base.partition("/")[0] if "/" in base else None,
                           bom_ref=f"{entry.ref}#base:{base}",
                           purl=PackageURL(type="huggingface", namespace=base.partition("/")[0],
                                           name=base.partition("/")[2]) if "/" in base else None)
                 for base in entry.bases]
    refs = [ExternalReference(type=ExternalReferenceType.ATTESTATION, url=XsUri(decision_location(entry)),
                              comment=f"signed curator decision {entry.decision.get('decision_id')} (DSSE, "
                                      "in-toto); check it with 'curator verify'"),
            ExternalReference(type=ExternalReferenceType.COMPONENT_ANALYSIS_REPORT,
                              url=XsUri(f"{report_base}{entry.review_id}.html" if report_base
                                        else f"urn:curator:review:{entry.review_id}"),
                              comment=f"approval report: curator report {entry.review_id} --format html")]
    if hub and entry.endpoint is not None:
        refs.append(ExternalReference(type=ExternalReferenceType.DISTRIBUTION,
                                      url=XsUri(f"{entry.endpoint.rstrip('/')}/{entry.repo_id}"),
                                      comment="where the model was fetched from"))
    supplier = OrganizationalEntity(name=org) if hub and org else None
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL, name=name or entry.repo_id, group=org if hub else None,
        version=entry.revision, bom_ref=entry.ref, supplier=supplier, publisher=org if hub else None,
        description=f"{entry.repo_id} at {entry.revision}, adopted into {entry.ref}",
        hashes=hashes, licenses=[LicenseFactory().make_from_string(entry.license)] if entry.license else None,
        purl=purl, external_references=refs,
        properties=[Property(name=k, value=v) for k, v in _properties(entry)],
        pedigree=Pedigree(ancestors=ancestors) if ancestors else None)


def file_components(entry: InventoryEntry, results: dict[str, StageResult]) -> list[dict[str, Any]]:
    """The model's pinned files as nested ``file`` components with their SHA-256.

    Plain CycloneDX JSON rather than library objects: the library hashes a component by
    walking all of its nested components, which made a thousand models take seconds.
    """
    fetch = results.get("fetch")
    return [{"type": "file", "bom-ref": f"{entry.ref}#file:{f['path']}", "name": str(f["path"]),
             "hashes": [{"alg": "SHA-256", "content": str(f["sha256"])}]}
            for f in (fetch.evidence.get("files", []) if fetch else [])]


#: models serialised per Bom: the library's output step checks the dependency graph in
#: O(n²) (one linear search per component), so a thousand models go through in slices
CHUNK = 50


def _slice(inventory: Inventory, entries: tuple[InventoryEntry, ...],
           report_base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Models built and serialised by the library: their components and dependency entries."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6

    models = [_component(e, inventory.results.get(e.review_id, {}), report_base) for e in entries]
    part = json.loads(JsonV1Dot6(Bom(components=models)).output_as_string())
    by_ref = {e.ref: e for e in entries}
    for component in part.get("components", []):
        entry = by_ref[component["bom-ref"]]
        results = inventory.results.get(entry.review_id, {})
        component["components"] = file_components(entry, results)
        component["modelCard"] = model_card(entry, results)
    return part.get("components", []), part.get("dependencies", [])


def _models_json(inventory: Inventory, report_base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    components: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    for start in range(0, len(inventory.entries), CHUNK):
        more, more_deps = _slice(inventory, inventory.entries[start:start + CHUNK], report_base)
        components += more
        deps += more_deps
    return components, deps


def bom_document(inventory: Inventory, report_base: str = "", serial: str | None = None) -> dict[str, Any]:
    """The CycloneDX 1.6 JSON document (a dict) for every model of the inventory."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    from curator.export.sarif import curator_version

    bom = Bom()
    if serial:
        import uuid

        bom.serial_number = uuid.UUID(serial)
    where = inventory.registry or "the private registry"
    bom.metadata.component = Component(type=ComponentType.PLATFORM, name="curator inventory",
                                       version=inventory.generated, bom_ref="curator-inventory",
                                       description=f"models in {where}")
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="curator",
                                                version=curator_version()))
    document: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    document["components"], deps = _models_json(inventory, report_base)
    # the inventory contains every model: a complete dependency graph, one level deep
    root = {"ref": "curator-inventory", "dependsOn": sorted(e.ref for e in inventory.entries)}
    document["dependencies"] = [root, *deps] if inventory.entries else [{"ref": "curator-inventory"}]
    return document


#: above this many models the BOM is written compact: indenting forces Python's slow JSON
#: encoder (about half a second for a thousand models), and such a file is read by tools
INDENT_UP_TO = 100


def render(inventory: Inventory, report_base: str = "") -> str:
    """The BOM as JSON text (indented for small inventories)."""
    document = bom_document(inventory, report_base)
    if len(inventory.entries) <= INDENT_UP_TO:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n"


def validate(text: str) -> list[str]:
    """Problems found by the CycloneDX 1.6 JSON schema (strict); empty when the BOM is valid."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return [] if error is None else [str(error)]
