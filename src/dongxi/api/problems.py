"""One error shape for the API: RFC 9457 problem details (``application/problem+json``).

Status codes come from one catalogue keyed by the exception class (:data:`CATALOGUE`), never
chosen route by route. The body carries the same fields as the command line's errors (``rule``,
``field``, ``fix``) and a title in Chinese or English by ``Accept-Language`` (zh-CN first). No
personal value is ever put into a problem: ``value`` is left out on purpose.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from dongxi.errors import (
    BackendError,
    ConfigError,
    ConflictError,
    DongxiError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from dongxi.services.accounts import AuthenticationError

__all__ = [
    "CATALOGUE",
    "MEDIA_TYPE",
    "Problem",
    "document_problems",
    "language",
    "problem",
    "register_handlers",
]

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

#: Exception class → (status, slug, Chinese title, English title). First match wins (subclasses
#: before their bases).
CATALOGUE: list[tuple[type[BaseException], int, str, str, str]] = [
    (AuthenticationError, 401, "unauthenticated", "需要登录或凭据无效", "Not authenticated"),
    (PermissionDeniedError, 403, "forbidden", "无权进行此操作", "Not allowed"),
    (RateLimitedError, 429, "too-many-requests", "请求过于频繁", "Too many requests"),
    (NotFoundError, 404, "not-found", "记录不存在", "Not found"),
    (ConflictError, 409, "conflict", "记录已被他人修改", "Conflict"),
    (InputError, 422, "invalid-input", "输入有误", "Invalid input"),
    (BackendError, 503, "backend-unavailable", "数据库暂不可用", "Database unavailable"),
    (ConfigError, 500, "configuration", "服务配置有误", "Server configuration error"),
]
_BY_STATUS = {
    400: ("bad-request", "请求有误", "Bad request"),
    401: ("unauthenticated", "需要登录或凭据无效", "Not authenticated"),
    403: ("forbidden", "无权进行此操作", "Not allowed"),
    404: ("not-found", "记录不存在", "Not found"),
    405: ("method-not-allowed", "不支持此方法", "Method not allowed"),
    409: ("conflict", "记录已被他人修改", "Conflict"),
    422: ("invalid-input", "输入有误", "Invalid input"),
    429: ("too-many-requests", "请求过于频繁", "Too many requests"),
    500: ("internal", "服务器内部错误", "Internal server error"),
    503: ("backend-unavailable", "数据库暂不可用", "Database unavailable"),
}


class Problem(BaseModel):
    """An error (RFC 9457 problem details, ``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    rule: str | None = None
    field: str | None = None
    fix: str | None = None
    errors: list[dict[str, Any]] | None = None


#: Statuses every ``/api/`` operation may answer with a problem (the catalogue's families that do
#: not depend on the route), and those that depend on its inputs.
_ALWAYS = {401: "Not authenticated", 403: "Not allowed", 503: "Database unavailable"}
_WITH_INPUT = {422: "Invalid input", 409: "Conflict"}
_WITH_PATH = {404: "Not found"}
_WITH_BODY = {400: "Malformed body (not JSON, or not of the declared content type)"}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the problems of every ``/api/`` operation in the OpenAPI ``schema`` (in place).

    Every 4xx/5xx response of an ``/api/`` operation is ``application/problem+json`` with the
    :class:`Problem` schema (FastAPI's default 422 says ``application/json``, which the API never
    sends); 401, 403 and 503 are declared for every operation, 409 and 422 for those taking input,
    404 for those with a path parameter, 400 (a body that does not parse) for those with a body.
    ``/healthz`` and ``/readyz`` keep their own bodies.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in item.values():
            params = operation.get("parameters", [])
            statuses = dict(_ALWAYS)
            if params or "requestBody" in operation:
                statuses |= _WITH_INPUT
            if any(p.get("in") == "path" for p in params):
                statuses |= _WITH_PATH
            if "requestBody" in operation:
                statuses |= _WITH_BODY
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                responses.setdefault(str(status), {"description": description})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = content
    return schema


def language(request: Request) -> str:
    """``zh`` unless the client prefers English (``Accept-Language``), zh-CN first."""
    header = request.headers.get("accept-language", "")
    best_en = best_zh = -1.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        tag = tag.strip().lower()
        if tag.startswith("en"):
            best_en = max(best_en, q)
        elif tag.startswith("zh") or tag == "*":
            best_zh = max(best_zh, q)
    return "en" if best_en > best_zh else "zh"


def problem(
    request: Request,
    status: int,
    *,
    detail: str | None = None,
    rule: str | None = None,
    field: str | None = None,
    fix: str | None = None,
    slug: str | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response in the request's language."""
    default_slug, zh, en = _BY_STATUS.get(status, ("error", "错误", "Error"))
    body: dict[str, Any] = {
        "type": f"https://dongxi.invalid/problems/{slug or default_slug}",
        "title": en if language(request) == "en" else zh,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if rule:
        body["rule"] = rule
    if field:
        body["field"] = field
    if fix:
        body["fix"] = fix
    if extra:
        body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _from_error(request: Request, exc: Exception) -> Response:
    for cls, status, slug, _zh, _en in CATALOGUE:
        if isinstance(exc, cls):
            assert isinstance(exc, DongxiError)
            if _page(request):
                from dongxi.web.pages import dongxi_error_page

                return dongxi_error_page(request, status, exc)
            column = getattr(exc, "column", None)
            errors = getattr(exc, "errors", None)
            extra: dict[str, Any] | None = None
            if errors:
                extra = {
                    "errors": [
                        {
                            "row": e.row,
                            "column": e.column,
                            "rule": e.rule,
                            "message": e.message_en if language(request) == "en" else e.message_zh,
                        }
                        for e in errors[:200]
                    ]
                }
            if isinstance(exc, ConflictError) and exc.fields:
                extra = {**(extra or {}), "changed_fields": list(exc.fields)}
            return problem(
                request,
                status,
                detail=exc.message,
                rule=getattr(exc, "rule", None),
                field=column,
                fix=exc.fix,
                slug=slug,
                extra=extra,
            )
    log.error("unexpected %s while serving a request", type(exc).__name__)
    return problem(request, 500)


def _page(request: Request) -> bool:
    from dongxi.web.pages import is_page

    return is_page(request.url.path)


async def _dongxi_handler(request: Request, exc: Exception) -> Response:
    return _from_error(request, exc)


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _page(request):
        from dongxi.web.pages import error_page

        return error_page(request, exc.status_code, str(exc.detail) if exc.detail else "")
    return problem(request, exc.status_code, detail=str(exc.detail) if exc.detail else None)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    if _page(request):
        from dongxi.web.pages import error_page

        return error_page(request, 422, f"{where}: {first.get('msg', 'invalid request')}")
    return problem(
        request,
        422,
        detail=str(first.get("msg", "invalid request")),
        rule="request_validation",
        field=where or None,
        fix="Correct the request as the API's schema (/api/docs) describes.",
    )


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected %s while serving a request", type(exc).__name__)
    return problem(request, 500)


def register_handlers(app: Any) -> None:
    """Install the one handler per family of errors."""
    app.add_exception_handler(DongxiError, _dongxi_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
