"""The monitoring part of the matrix's world: in each county an open case and a closed notice
(with a resolved objection), so every route can be called at home and away without changing
anything (the calls the matrix makes are refused once past permission and scope)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine


def monitoring_world(engine: Engine, *, home_code: str, away_code: str) -> dict[str, Any]:
    from dongxi.services import cases, notices
    from dongxi.services.principal import Principal
    from dongxi.store.db import session_scope

    admin = Principal(name="matrix-admin", role="admin")
    back = cases.today() - dt.timedelta(days=10)
    out: dict[str, Any] = {}
    with session_scope(engine) as session:
        for where, code in (("home", home_code), ("away", away_code)):
            case = cases.open_case(
                session, admin, household_code=code, procedure="identification",
                channel="cadre_sweep",
            )  # fmt: skip
            notice = notices.create_notice(
                session, admin, kind="monitoring_entry", household_codes=[code], starts_on=back
            )
            objection = notices.object_to(
                session, admin, notice_id=notice.id, raised_by="村民", text="matrix"
            )
            notices.resolve_objection(
                session, admin, notice_id=notice.id, objection_id=objection.id,
                resolution="matrix",
            )  # fmt: skip
            notices.close_notice(session, admin, notice_id=notice.id)
            out[f"{where}_case"] = case.id
            out[f"{where}_notice"] = notice.id
            out[f"{where}_objection"] = objection.id
    return out
