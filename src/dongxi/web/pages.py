"""Server-rendered pages (zh-CN first, English by ``?lang=en``): log in, the households of one's
scope, a household's page, search by a member's name.

Every page calls the same use cases as the API (:mod:`dongxi.services`); scope is applied below,
in the data layer. A page needs a logged-in user: the session cookie (or a bearer token for
tools); without one it redirects to ``/login``. Forms that change state carry the session's CSRF
token. Names travel only in POST bodies, never in URLs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dongxi import vocab
from dongxi.api.deps import COOKIE, DbSession, csrf_token, get_principal
from dongxi.errors import DongxiError, InputError
from dongxi.localtime import local_time
from dongxi.services import accounts
from dongxi.services import households as use
from dongxi.services.accounts import AuthenticationError
from dongxi.services.principal import Principal
from dongxi.services.regions import place_name
from dongxi.settings import get_settings

__all__ = ["LoginRequired", "router", "templates", "warm_up"]

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
router = APIRouter(include_in_schema=False)
LANG_COOKIE = "dongxi_lang"


class LoginRequired(Exception):
    """A page was asked for without a valid session: answered by a redirect to /login."""


def warm_up() -> None:
    """What the first page of a new worker would otherwise pay for, done at start: every
    template compiled, the division names and the policy figures loaded, the modules the pages
    import on first use imported (a cold household page took 3.5 s, one after it 50 ms)."""
    from dongxi.policy import all_parameters
    from dongxi.services import household_record

    for name in templates.env.list_templates():
        if name.endswith(".html"):
            templates.env.get_template(name)
    place_name("450000")
    all_parameters()
    household_record.field_labels("people")


def language(request: Request) -> str:
    """``en`` when asked for (``?lang=en`` or the language cookie), else ``zh``."""
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        return asked
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def page_principal(
    request: Request, db: DbSession, csrf: Annotated[str | None, Depends(csrf_token)]
) -> Principal:
    """The logged-in principal, or a redirect to the login page (a plain function, run in the
    thread pool like :func:`dongxi.api.deps.get_principal`)."""
    try:
        return get_principal(request, db, csrf)
    except AuthenticationError:
        raise LoginRequired() from None


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def _label(lang: str, vocabulary: str, code: str | None) -> str:
    if not code:
        return "—"
    table = getattr(vocab, vocabulary)
    if code not in table:
        return code
    label = table[code]
    return str(label.en if lang == "en" else label.zh)


_ACTOR = re.compile(r"^(?P<name>.*) \((?P<role>[a-z_]+)\)$")


def _actor(lang: str, actor: str | None) -> str:
    """A change's author as people read it: "张三（县级干部）", not the stored
    "张三 (county_officer)" (the log keeps the role's code; another form is shown as stored)."""
    if not actor:
        return "—"
    found = _ACTOR.match(actor)
    if not found or found["role"] not in vocab.USER_ROLES:
        return actor
    role = _label(lang, "USER_ROLES", found["role"])
    return f"{found['name']} ({role})" if lang == "en" else f"{found['name']}（{role}）"


def render(
    request: Request,
    template: str,
    *,
    me: Principal | None,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the request's language with the helpers every template uses."""
    lang = language(request)
    cookie = request.cookies.get(COOKIE)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "title": title,
            "me": me,
            "role_label": _label(lang, "USER_ROLES", me.role) if me else "",
            "csrf": accounts.csrf_token_for(cookie) if cookie else "",
            "t": (lambda zh, en: en if lang == "en" else zh),
            "label": (lambda vocabulary, code: _label(lang, vocabulary, code)),
            "place": place_name,
            "who": (lambda actor: _actor(lang, actor)),
            "local_time": local_time,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="strict", path="/")
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error as a page (the API answers problem+json instead)."""
    lang = language(request)
    titles = {
        403: ("无权查看", "Not allowed"),
        404: ("没有找到", "Not found"),
        409: ("记录已被他人修改", "Changed by someone else"),
        422: ("输入有误", "Invalid input"),
    }
    zh, en = titles.get(status, ("出错了", "Something went wrong"))
    return render(
        request,
        "error.html",
        me=None,
        title=en if lang == "en" else zh,
        message=message,
        status_code=status,
    )


@router.get("/")
def home() -> RedirectResponse:
    """The start page is the list of households."""
    return RedirectResponse("/households", status_code=303)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The login form."""
    lang = language(request)
    return render(request, "login.html", me=None, title="Log in" if lang == "en" else "登录")


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Check the password, set the session cookie, go to the households."""
    lang = language(request)
    try:
        started = accounts.start_session(db, username=username, password=password)
    except AuthenticationError as exc:
        return render(
            request,
            "login.html",
            me=None,
            title="Log in" if lang == "en" else "登录",
            error=(
                exc.message
                if lang == "en"
                else "用户名或密码不正确，或账号已被锁定或停用。多次失败后请稍后再试。"
            ),
            status_code=401,
        )
    response = RedirectResponse("/households", status_code=303)
    response.set_cookie(
        COOKIE,
        started.session_id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or get_settings().secure_cookies,
        max_age=get_settings().session_hours * 3600,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, me: PagePrincipal) -> RedirectResponse:
    """End the session (the form carries the CSRF token, checked by the dependency)."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        accounts.logout(db, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _statuses(lang: str) -> list[tuple[str, str]]:
    return [(code, _label(lang, "HOUSEHOLD_STATUSES", code)) for code in vocab.HOUSEHOLD_STATUSES]


@router.get("/households")
def households(
    request: Request,
    db: DbSession,
    me: PagePrincipal,
    region: str | None = None,
    status: str | None = None,
    after: str | None = None,
) -> HTMLResponse:
    """The households of one's scope, 50 a page."""
    lang = language(request)
    region = region or None
    status = status or None
    if region is not None and not (region.isdigit() and 2 <= len(region) <= 12):
        raise InputError("A division code has 2 to 12 digits.", column="region", rule="region")
    if status is not None and status not in vocab.HOUSEHOLD_STATUSES:
        raise InputError("Unknown household status.", column="status", rule="status")
    page = use.list_households(db, me, region=region, status=status, after=after, limit=50)
    query = {k: v for k, v in (("region", region), ("status", status)) if v}
    if page.next_after:
        query["after"] = page.next_after
    return render(
        request,
        "households.html",
        me=me,
        title="Households" if lang == "en" else "农户",
        rows=page.items,
        next_after=page.next_after,
        next_query=urlencode(query),
        region=region,
        status=status,
        statuses=_statuses(lang),
        searched=False,
    )


@router.post("/households/search")
def search(
    request: Request,
    db: DbSession,
    me: PagePrincipal,
    name: Annotated[str, Form(max_length=100)],
) -> HTMLResponse:
    """Households with a member of this name (POST: names never go into URLs)."""
    lang = language(request)
    rows = use.search_households(db, me, name=name, limit=200)
    return render(
        request,
        "households.html",
        me=me,
        title="Households" if lang == "en" else "农户",
        rows=rows,
        next_after=None,
        next_query="",
        region=None,
        status=None,
        statuses=_statuses(lang),
        name=name,
        searched=True,
    )


#: The household's yes/no facts of the deprivation profile: field, Chinese and English name.
DEPRIVATION_CHECKS = (
    ("water_quantity_ok", "饮水水量", "water quantity"),
    ("water_quality_ok", "饮水水质", "water quality"),
    ("water_convenience_ok", "取水方便程度", "water convenience"),
    ("water_guarantee_ok", "供水保证率", "water supply guarantee"),
    ("road_access", "通硬化路", "paved road"),
    ("electricity", "通生产生活用电", "electricity"),
)


def _deprivations(lang: str, facts: dict[str, Any]) -> list[tuple[str, bool]]:
    """The deprivation profile in words: "住房不安全 (C级危房)", "饮水水质不达标"."""
    grade = facts["housing_grade"]
    unsafe = grade in ("C", "D")
    grade_label = _label(lang, "HOUSING_GRADES", grade)
    if lang == "en":
        housing = f"Housing {'unsafe' if unsafe else 'safe'} (grade {grade_label})"
    else:
        housing = f"住房不安全（{grade}级危房）" if unsafe else f"住房安全（{grade}级）"
    items = [(housing, unsafe)]
    for key, zh, en in DEPRIVATION_CHECKS:
        ok = bool(facts[key])
        if lang == "en":
            items.append((f"{en}: {'met' if ok else 'NOT met'}", not ok))
        else:
            items.append((f"{zh}{'达标' if ok else '不达标'}", not ok))
    return items


@router.get("/households/{household_code}")
def household(
    request: Request, household_code: str, db: DbSession, me: PagePrincipal
) -> HTMLResponse:
    """A household's page (an audited read of a personal record)."""
    from dongxi.services.household_record import field_labels, household_record

    lang = language(request)
    detail = use.household_detail(db, me, household_code=household_code, via="page")
    record = household_record(db, me, household_code=household_code)
    return render(
        request,
        "household.html",
        me=me,
        title=("Household " if lang == "en" else "农户 ") + household_code,
        h=detail,
        r=record,
        deprivations=_deprivations(lang, detail.deprivations),
        checks=DEPRIVATION_CHECKS,
        sectors=vocab.SECTORS.codes,
        fields={e: field_labels(e) for e in ("households", "people")},
        done=request.query_params.get("done"),
    )


def is_page(path: str) -> bool:
    """Whether a request path belongs to the pages (errors shown as HTML, not problem+json)."""
    return not (
        path.startswith("/api") or path in ("/healthz", "/readyz") or path.startswith("/static")
    )


async def login_required_handler(request: Request, exc: Exception) -> Response:
    """No session: to the login page."""
    return RedirectResponse("/login", status_code=303)


def dongxi_error_page(request: Request, status: int, exc: DongxiError) -> HTMLResponse:
    """A DongxiError on a page, in words (no personal value: messages are redacted); in Chinese
    the sentence of its status, the English message otherwise."""
    if language(request) != "en" and status in _ZH_MESSAGES:
        return error_page(request, status, _ZH_MESSAGES[status])
    if language(request) != "en" and status == 422:
        # the rule's own text is English: the Chinese sentence first, the detail after it
        return error_page(request, status, f"提交的内容有误，请返回上一页修改。（{exc.message}）")
    return error_page(request, status, exc.message)


_ZH_MESSAGES = {
    403: "您的角色没有这项权限。如需要，请联系系统管理员。",
    404: "在您的权限范围内没有这条记录。请检查编号，或回到列表查找。",
    409: "这条记录在您打开之后已被他人修改。请重新打开后再修改。",
}
