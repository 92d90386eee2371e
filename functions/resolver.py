"""The GS1 Digital Link resolver at the host root, short passport URLs, and the consumer page.

`GET /01/{gtin}[/22/..][/10/{lot}][/21/{serial}]` and `GET /p/{dppId}` negotiate: `?linkType=linkset`
or `Accept: application/linkset+json` gets the RFC 9264 linkset (200); `?linkType=<type>` a 307 to
that link (an unknown type: the default link); otherwise `Accept` picks the link (HTML: the page,
`application/ld+json`: the lite JSON-LD view, `application/json`: the EN 18222 document) and the
answer is a 307 to it. Each calls `shared.publication.resolver` / `page` directly.
"""

from __future__ import annotations

import azure.functions as func

from functions.routes import Route
from functions.web import Adapter, conditional_response, json_response, media_ranges, path_param, raw_tail
from shared.composition import Root
from shared.documents.digital_link import parse_path
from shared.documents.entity_tags import content_etag, entity_tag, not_modified
from shared.platform.openapi import Catalog
from shared.publication.carriers import carrier_content, parse_request, render
from shared.publication.resolver import DEFAULT, DPP, LINKSET, PIP, Resolution, parse_link_type

LINKSET_TYPE = "application/linkset+json"
HTML = "text/html"
# What the page may load: nothing from anywhere (its styles are inline, it runs no script).
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
JSON_LD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
# What each answer varies on, exactly: the resolver's link on Accept, the page's language on Accept-Language.
RESOLVER_VARY, PAGE_VARY = "Accept", "Accept-Language"
LINKSET_CONTEXT = {
    "@context": {
        "linkset": "@graph",
        "anchor": "@id",
        "href": "@id",
        "gs1": "https://gs1.org/voc/",
        "type": "http://purl.org/dc/terms/format",
        "title": "http://purl.org/dc/terms/title",
        "hreflang": "http://purl.org/dc/terms/language",
    }
}
# Accept media types, in the order a tie is broken, and the link each one picks.
NEGOTIATED = ((LINKSET_TYPE, LINKSET), (HTML, PIP), ("application/ld+json", DPP), ("application/json", DPP))


def _accepted(header: str | None) -> str | None:
    """The link type the Accept header asks for, by q-value (None: anything goes)."""
    best: tuple[float, int, str] | None = None
    for media, quality in media_ranges(header):
        for rank, (known, link_type) in enumerate(NEGOTIATED):
            if media == known and quality > 0:
                candidate = (quality, -rank, f"{link_type}|{known}")
                best = candidate if best is None or candidate > best else best
    return None if best is None else best[2]


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)
    _resolver(bp, root, web)
    _page_and_carriers(bp, root, web)
    return bp


def _resolver(bp: func.Blueprint, root: Root, web: Adapter) -> None:

    def headers(resolution: Resolution) -> dict[str, str]:
        linkset_url = f"{resolution.anchor}{'&' if '?' in resolution.anchor else '?'}linkType=linkset"
        found = {
            "Link": f'<{linkset_url}>; rel="linkset"; type="{LINKSET_TYPE}"',
            "DPP-Resolved-Level": resolution.level,
            "Cache-Control": f"public, max-age={root.settings.public_max_age}",
            "Vary": RESOLVER_VARY,
        }
        return found

    def answer(req: func.HttpRequest, resolution: Resolution) -> func.HttpResponse:
        links = web.links(req)
        urls = links  # Links serves the page, passport and lite-view URLs the resolver asks for
        asked = parse_link_type(req.params.get("linkType"))
        media = None
        if asked is None:
            negotiated = _accepted(req.headers.get("accept"))
            asked, media = negotiated.split("|") if negotiated else (DEFAULT, None)
        common = headers(resolution)
        if asked == LINKSET:
            body = root.resolver.linkset(resolution, urls)
            context_url = links.url(Route.LINKSET_CONTEXT)
            context = f'<{context_url}>; rel="{JSON_LD_CONTEXT_REL}"; type="application/ld+json"'
            common["Link"] = f"{common['Link']}, {context}"
            tag = entity_tag(content_etag(body), "linkset")
            return conditional_response(req, body, tag, headers=common, content_type=LINKSET_TYPE)
        candidates = root.resolver.links(resolution, urls)
        chosen = next(
            (
                link
                for link in candidates
                if link.link_type == asked and (media is None or link.media_type == media)
            ),
            root.resolver.link_for(resolution, urls, asked),
        )
        tag = entity_tag(content_etag([chosen.href, resolution.level, resolution.head["etag"]]), "link")
        location = {"Location": chosen.href, "ETag": tag, **common}
        if _not_modified(req, tag):
            return func.HttpResponse(status_code=304, headers=location)
        return func.HttpResponse(status_code=307, headers=location)

    @web.operation(bp, Route.RESOLVER, "GET")
    def resolve_digital_link(req: func.HttpRequest) -> func.HttpResponse:
        link = parse_path("01/" + raw_tail(req, "/01/"), _query(req.url))
        return answer(req, root.resolver.resolve(link, web.links(req).origin))

    @web.operation(bp, Route.SHORT, "GET")
    def resolve_short_url(req: func.HttpRequest) -> func.HttpResponse:
        dpp_id = path_param(req, Route.SHORT, "dppId")
        return answer(req, root.resolver.resolve_id(dpp_id, web.links(req).url(Route.SHORT, dppId=dpp_id)))

    @web.operation(bp, Route.RESOLVER_DESCRIPTION, "GET")
    def read_resolver_description(req: func.HttpRequest) -> func.HttpResponse:
        body = root.resolver.description(web.links(req).origin)
        return json_response(body, headers={"Cache-Control": "public, max-age=86400"})

    @web.operation(bp, Route.LINKSET_CONTEXT, "GET")
    def read_linkset_context(req: func.HttpRequest) -> func.HttpResponse:
        tag = entity_tag(content_etag(LINKSET_CONTEXT))
        return conditional_response(
            req, LINKSET_CONTEXT, tag, max_age=86400, content_type="application/ld+json"
        )


def _page_and_carriers(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    @web.operation(bp, Route.PAGE, "GET")
    def read_consumer_page(req: func.HttpRequest) -> func.HttpResponse:
        head = root.service.read(path_param(req, Route.PAGE, "dppId"))
        links = web.links(req)
        urls = {"verify": links.url(Route.VERIFY), "keys": links.url(Route.KEYS)}
        context = root.page.context(
            head, req.params.get("lang"), req.headers.get("accept-language"), urls, links.page
        )
        html = root.page.render(context).encode("utf-8")
        # Related passports change without this one changing: their standing is in the tag too.
        tag = entity_tag(content_etag([head["etag"], context.language, repr(context.relations)]), "page")
        page_headers = {
            "ETag": tag,
            "Cache-Control": f"public, max-age={root.settings.public_max_age}",
            "Vary": PAGE_VARY,
            "Content-Language": context.language,
            "Content-Security-Policy": PAGE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if _not_modified(req, tag):
            return func.HttpResponse(status_code=304, headers=page_headers)
        return func.HttpResponse(
            body=html, status_code=200, headers=page_headers, mimetype=HTML, charset="utf-8"
        )

    @web.operation(bp, Route.CARRIER, "GET")
    def read_data_carrier(req: func.HttpRequest) -> func.HttpResponse:
        head = root.service.read(path_param(req, Route.CARRIER, "dppId"))
        request = parse_request(
            {name: req.params.get(name) for name in ("format", "symbology", "scale", "border", "ec")}
        )
        carrier = render(carrier_content(head, root.settings.public_url), request)
        tag = entity_tag(content_etag([head["etag"], repr(request)]), "carrier")
        carrier_headers = {
            "ETag": tag,
            "Cache-Control": f"public, max-age={root.settings.public_max_age}",
            "DPP-Carrier-Bytes": str(len(carrier.encoded.encode("utf-8"))),
            "X-Content-Type-Options": "nosniff",
        }
        if carrier.symbol_version:
            carrier_headers["DPP-Carrier-Symbol"] = carrier.symbol_version
        if _not_modified(req, tag):
            return func.HttpResponse(status_code=304, headers=carrier_headers)
        return func.HttpResponse(
            body=carrier.data, status_code=200, headers=carrier_headers, mimetype=carrier.media_type
        )


def _query(url: str) -> str:
    return url.partition("?")[2]


def _not_modified(req: func.HttpRequest, tag: str) -> bool:
    return not_modified(req.headers.get("if-none-match"), tag)
