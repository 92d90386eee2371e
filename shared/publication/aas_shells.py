"""Passports as AAS objects for the bulk export (`shared.onboarding.exports`, which may not
import publication): each passport's shell and submodels as its owner reads them, built by the
single-passport AAS export (`shared.publication.aas.environment`), one passport at a time."""

from __future__ import annotations

from typing import Any

from shared.access.authentication import Principal
from shared.passports.records import PassportItem
from shared.passports.service import PassportService
from shared.publication.aas import AasLinks, environment


class PassportShells:
    def __init__(self, service: PassportService, links: AasLinks, public_url: str):
        self.service = service
        self.links = links
        self.public_url = public_url

    def objects(self, head: PassportItem, reader: Principal) -> tuple[str, list[Any]]:
        """The shell's id, and the shell with its submodels (BaSyx Identifiables), of what
        `reader` may see of `head`."""
        store, shell_id = environment(self.service.view(head, reader), self.links, self.public_url)
        return shell_id, list(store)
