"""The inventory as a CycloneDX 1.6 AI-BOM, built with cyclonedx-python-lib.

One ``machine-learning-model`` component per model: the OCI manifest digest as its hash,
license, supplier (the hub organisation, with the card's contacts) and publisher, a
package URL, ``pedigree.ancestors`` for declared base models, external references to the
signed decision and the approval report, curator's facts as ``curator:*`` properties
(docs/bom.md), a ``modelCard`` with what the card says (``bom_card.py``), its files and
datasets as nested ``file`` and ``data`` components (``bom_facts.py``). Scan findings are
``vulnerabilities`` (waived ones carry the waiver); the signed decisions are
``declarations`` against the policy in ``definitions`` (``bom_declarations.py``).
"""

from __future__ import annotations

import json
from typing import Any

from curator.export.bom_card import model_card, training_datasets
from curator.export.bom_declarations import decision_location, declarations, definitions, model_declarations
from curator.export.bom_facts import (
    data_components,
    dataset_ref,
    eval_properties,
    file_components,
    lifecycle_properties,
    vulnerabilities,
    waiver_properties,
)
from curator.inventory.build import Inventory, InventoryEntry
from curator.inventory.evidence import ModelEvidence

__all__ = ["bom_document", "decision_location", "render", "validate"]

SPEC_VERSION = "1.6"


def bom_refs(entries: tuple[InventoryEntry, ...]) -> dict[int, str]:
    """Each entry's bom-ref: its ref, or ``REGISTRY/REF`` where two registries hold the same ref."""
    seen: dict[str, int] = {}
    for e in entries:
        seen[e.ref] = seen.get(e.ref, 0) + 1
    return {id(e): e.ref if seen[e.ref] == 1 else f"{e.registry}/{e.ref}" for e in entries}


def _properties(entry: InventoryEntry, ev: ModelEvidence) -> list[tuple[str, str]]:
    # the ref, revision and manifest digest are already bom-ref, version and hashes
    props = [("curator:status", entry.status), ("curator:review_id", entry.review_id),
             ("curator:decision_id", str(entry.decision.get("decision_id"))),
             ("curator:decision:curator", entry.curator),
             ("curator:decision:time", entry.approved_at),
             ("curator:decision:rationale", str(entry.decision.get("rationale", ""))),
             ("curator:files_digest", entry.files_digest), ("curator:source", entry.source),
             ("curator:age_days", str(entry.age_days)),
             ("curator:last_check", str((entry.last_check or {}).get("time") or "never"))]
    props += [("curator:reason", r) for r in entry.reasons]
    props += [(f"curator:scanner:{k}", v) for k, v in sorted(entry.scanners.items())]
    for name in ("scan", "signature", "card", "eval"):
        r = ev.get(name)
        props.append((f"curator:stage:{name}", r.status.value if r else "not run"))
    props += waiver_properties(entry)
    props += lifecycle_properties(entry)
    props += eval_properties(ev)
    if entry.last_action:
        props.append(("curator:quarterly:last_action", f"{entry.last_action.get('action')} "
                                                        f"{entry.last_action.get('time')}"))
    return [(k, v) for k, v in props if v != ""]


def _supplier(org: str, ev: ModelEvidence) -> Any:
    from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity

    contacts = []
    for found in ev.card.contacts:
        contacts.append(OrganizationalContact(name=found.text[:200] or None,
                                              email=found.emails[0] if found.emails else None))
    return OrganizationalEntity(name=org, contacts=contacts or None)


def _component(entry: InventoryEntry, ev: ModelEvidence, report_base: str, ref: str) -> Any:
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
    from packageurl import PackageURL

    org, _, name = entry.repo_id.partition("/")
    hub = entry.source == "hub"
    purl = PackageURL(type="huggingface", namespace=org, name=name, version=entry.revision) if hub else None
    hashes = [HashType(alg=HashAlgorithm.SHA_256, content=entry.manifest_digest.split(":", 1)[-1])]
    ancestors = [Component(type=ComponentType.MACHINE_LEARNING_MODEL, name=base.partition("/")[2] or base,
                           group=base.partition("/")[0] if "/" in base else None,
                           bom_ref=f"{ref}#base:{base}",
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
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL, name=name or entry.repo_id, group=org if hub else None,
        version=entry.revision, bom_ref=ref, supplier=_supplier(org, ev) if hub and org else None,
        publisher=org if hub else None,
        description=f"{entry.repo_id} at {entry.revision}, adopted into {entry.ref} ({entry.registry})",
        hashes=hashes, licenses=[LicenseFactory().make_from_string(entry.license)] if entry.license else None,
        purl=purl, external_references=refs,
        properties=[Property(name=k, value=v) for k, v in _properties(entry, ev)],
        pedigree=Pedigree(ancestors=ancestors) if ancestors else None)


#: models serialised per Bom: the library's output step checks the dependency graph in
#: O(n²) (one linear search per component), so a thousand models go through in slices
CHUNK = 50


def _slice(inventory: Inventory, entries: tuple[InventoryEntry, ...], refs: dict[int, str],
           report_base: str) -> dict[str, list[dict[str, Any]]]:
    """Models built and serialised by the library, then their nested parts and declarations."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6

    models, vulns = [], []
    read = {id(e): inventory.evidence_of(e.review_id) for e in entries}
    for e in entries:
        models.append(_component(e, read[id(e)], report_base, refs[id(e)]))
        vulns += vulnerabilities(e, read[id(e)], refs[id(e)])
    part = json.loads(JsonV1Dot6(Bom(components=models, vulnerabilities=vulns)).output_as_string())
    by_ref = {refs[id(e)]: e for e in entries}
    declared = []
    for component in part.get("components", []):
        entry = by_ref[component["bom-ref"]]
        ev = read[id(entry)]
        ref = component["bom-ref"]
        datasets = training_datasets(ev)
        component["components"] = (file_components(entry, ev, ref)
                                   + data_components(entry, datasets, ref))
        refs_of_datasets = [dataset_ref(ref, d) for d in dict.fromkeys(datasets)]
        component["modelCard"] = model_card(ref, ev, refs_of_datasets)
        declared.append(model_declarations(entry, ev.results, ref, decision_location(entry)))
    return {"components": part.get("components", []), "dependencies": part.get("dependencies", []),
            "vulnerabilities": part.get("vulnerabilities", []), "declarations": declared}  # type: ignore[dict-item]


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
    stages = sorted({name for results in inventory.results.values() for name in results})
    if stages:
        bom.definitions = definitions(stages, inventory.policy_version)
    document: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    refs = bom_refs(inventory.entries)
    components: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    vulns: list[dict[str, Any]] = []
    declared: list[Any] = []
    for start in range(0, len(inventory.entries), CHUNK):
        part = _slice(inventory, inventory.entries[start:start + CHUNK], refs, report_base)
        components += part["components"]
        deps += part["dependencies"]
        vulns += part["vulnerabilities"]
        declared += part["declarations"]
    document["components"] = components
    # the inventory contains every model: a complete dependency graph, one level deep
    root = {"ref": "curator-inventory", "dependsOn": sorted(refs.values())}
    document["dependencies"] = [root, *deps] if inventory.entries else [{"ref": "curator-inventory"}]
    if vulns:
        document["vulnerabilities"] = vulns
    if inventory.entries:
        document["declarations"] = declarations(declared, list(inventory.entries))
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
