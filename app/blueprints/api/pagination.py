"""Cursor pagination, the same for every list of the API.

A list takes ``cursor`` (opaque: where the last page ended) and ``limit`` (default 100, at most 500); a list
of things that change also takes ``updated_since`` (incremental sync: the rows changed at or after it, oldest
change first). Its body is ``{"items": [...], "next_cursor": "…" | null, "next": "/api/v1/…?cursor=…" | null}``:
follow ``next`` until it is null. Usage in a view::

    @bp.route("/responses")
    @auth.requires("responses:read")
    @bp.arguments(ResponseListArgs, location="query")   # a subclass of SyncArgs
    @bp.response(200, pagination.page_schema(ResponseSchema))
    @problems.documented(400)                          # a cursor that is not one of this list's
    def list_responses(args):
        query = scope_responses(select(Response)..., auth.current_key())
        return pagination.page(query, (Response.updated_at, Response.id), args)

The order is the sort key's (ascending), walked by keyset (never OFFSET): app/services/integrations/pages.py.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import marshmallow as ma
from flask import request, url_for
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from app.blueprints.api import problems
from app.core import cursors
from app.services.integrations import pages


class ListArgs(ma.Schema):
    cursor = ma.fields.String(
        validate=ma.validate.Length(min=1, max=cursors.MAX_CURSOR_LENGTH),
        metadata={"description": "next_cursor of the page before (opaque)"},
    )
    limit = ma.fields.Integer(
        load_default=pages.DEFAULT_LIMIT, validate=ma.validate.Range(min=1, max=pages.MAX_LIMIT),
        metadata={"description": f"items per page (default {pages.DEFAULT_LIMIT}, at most {pages.MAX_LIMIT})"},
    )


class SyncArgs(ListArgs):
    updated_since = ma.fields.AwareDateTime(
        format="iso", default_timezone=None,
        metadata={"description": "only what changed at or after this time (RFC 3339 with its offset), oldest change first"},
    )


@lru_cache(maxsize=None)
def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The page schema of a list of ``item_schema`` (one class per item schema: one name in the document)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next_cursor": ma.fields.String(required=True, allow_none=True,
                                        metadata={"description": "null on the last page"}),
        "next": ma.fields.String(required=True, allow_none=True,
                                 metadata={"description": "the next page's address, null on the last page"}),
    })


def page(query: Select, columns: Sequence[InstrumentedAttribute], args: dict[str, Any]) -> dict[str, Any]:
    """One page of ``query`` (already scoped and filtered) in the order of ``columns``: the body of a list.

    ``updated_since`` (SyncArgs) applies to the first column: a list that syncs sorts by its updated_at first.
    """
    if args.get("updated_since") is not None:
        query = query.where(columns[0] >= args["updated_since"])
    after = None
    if args.get("cursor"):
        try:
            after = cursors.decode(args["cursor"], pages.kinds(columns))
        except cursors.CursorError:
            problems.abort(400, "The cursor is not one this list gave: start again without it.")
    result = pages.keyset_page(query, columns, after=after, limit=args["limit"])
    next_url = None
    if result.next_cursor is not None:
        query_args = {k: v for k, v in request.args.lists() if k != "cursor"}
        next_url = url_for(request.endpoint, **(request.view_args or {}), **query_args, cursor=result.next_cursor)
    return {"items": result.rows, "next_cursor": result.next_cursor, "next": next_url}
