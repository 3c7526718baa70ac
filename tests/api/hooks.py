"""Schemathesis hooks for `make test-api` (scripts/test-api.sh): keep the run on its own data.

Every request a generated case would send with a well-formed product id, product ids or order listing is
pointed at one of the two products the script created, whatever phase generated it (the config's
parameter pins do not reach every phase). A negative case is sent as generated: Fastify validates the
whole request before any handler runs, so a request with one invalid part changes nothing.
"""

import os

import schemathesis

ACTIVE_ID = int(os.environ["API_TEST_ACTIVE_ID"])
ARCHIVE_ID = int(os.environ["API_TEST_ARCHIVE_ID"])
TAG = os.environ["API_TEST_TAG"]
OPERATOR_ID = int(os.environ["API_TEST_OPERATOR_ID"])


def _is_id(value):
    return (isinstance(value, int) and not isinstance(value, bool) and value >= 1) or (
        isinstance(value, str) and value.isdigit() and value != "0"
    )


def _positive(case):
    meta = case.meta
    return meta is None or meta.generation.mode.is_positive


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not _positive(case):
        return
    path, method = case.operation.path, case.method.upper()
    params = case.path_parameters or {}
    if path.startswith("/products/{id}") and _is_id(params.get("id")):
        # Archiving happens to the second product only; everything else to the first.
        params["id"] = ARCHIVE_ID if method == "DELETE" else ACTIVE_ID
    if path == "/admin/operators/{id}" and _is_id(params.get("id")):
        # Role changes happen to the run's own operator only, never to a real one.
        params["id"] = OPERATOR_ID
    if path in ("/admin/stock/sync", "/admin/stock/release-stale") and not (
        isinstance(case.body, dict) and "productIds" in case.body
    ):
        # No body means every product: the run syncs and releases its own only.
        case.body = {"productIds": [ACTIVE_ID, ARCHIVE_ID]}
        case.media_type = "application/json"
    body = case.body
    if isinstance(body, dict):
        if _is_id(body.get("productId")):
            body["productId"] = ACTIVE_ID
        ids = body.get("productIds")
        if isinstance(ids, list) and ids and all(_is_id(i) for i in ids):
            body["productIds"] = [ACTIVE_ID, ARCHIVE_ID][: max(1, min(2, len(ids)))]
        if path == "/products" and method == "POST" and isinstance(body.get("name"), str):
            # Found and archived by the script afterwards; still within the 200-character limit.
            body["name"] = f"{TAG} {body['name']}"[:200]
    if path == "/orders" and method == "GET":
        # Listed orders feed the stateful phase's GET and DELETE /orders/{id}: only its own.
        case.query = {**(case.query or {}), "productId": ACTIVE_ID}
