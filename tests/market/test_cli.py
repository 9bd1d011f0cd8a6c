"""``dongxi match`` and ``dongxi proposal`` through the real entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dongxi.cli import main
from dongxi.synth.market import market_2017


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _files(tmp: Path, seekers: str, offers: str, caps: str) -> list[str]:
    return [
        "--seeker-ranks",
        str(_write(tmp, "s.csv", seekers)),
        "--offer-ranks",
        str(_write(tmp, "o.csv", offers)),
        "--capacities",
        str(_write(tmp, "c.csv", caps)),
        "--out",
        str(tmp / "out.csv"),
    ]


SEEKERS = "seeker_id,offer_id,rank\na,x,1\na,y,2\nb,x,1\nc,y,1\nd,x,1\n"
OFFERS = "offer_id,seeker_id,rank\nx,b,1\nx,a,2\ny,a,1\ny,c,2\n"
CAPS = "offer_id,capacity\nx,1\ny,1\n"


def test_research_mode_stable(tmp_path: Path, capsys: Any) -> None:
    assert main(["match", "--method", "stable", *_files(tmp_path, SEEKERS, OFFERS, CAPS)]) == 0
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert dict(zip(out["seeker_id"], out["offer_id"], strict=True)) == {
        "a": "y",
        "b": "x",
        "c": "",
        "d": "",
    }
    text = " ".join(capsys.readouterr().out.split())
    assert "no offer the seeker listed lists the seeker back" in text  # d
    assert "full with seekers it ranks higher" in text  # c


def test_research_mode_optimal(tmp_path: Path) -> None:
    assert main(["match", "--method", "optimal", *_files(tmp_path, SEEKERS, OFFERS, CAPS)]) == 0
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert (out["offer_id"] != "").sum() == 2


@pytest.mark.parametrize(
    ("seekers", "offers", "caps", "expected"),
    [
        (SEEKERS, OFFERS, "offer_id,capacity\nx,-1\ny,1\n", ["c.csv", "row 2", "capacity", "≥ 0"]),
        (SEEKERS + "e,zz,1\n", OFFERS, CAPS, ["s.csv", "row 7", "offer_id", "zz"]),
        (SEEKERS + "a,x,3\n", OFFERS, CAPS, ["s.csv", "row 7", "listed twice"]),
        (
            "seeker_id,offer_id,rank\na,x,1\na,y,1\n",
            OFFERS,
            CAPS,
            ["s.csv", "row 3", "duplicate rank"],
        ),
        (SEEKERS, OFFERS, "offer_id,cap\nx,1\n", ["c.csv", "capacity"]),
        ("seeker_id,offer_id,rank\na,x,first\n", OFFERS, CAPS, ["s.csv", "row 2", "whole number"]),
    ],
)
def test_research_mode_bad_input(
    tmp_path: Path, capsys: Any, seekers: str, offers: str, caps: str, expected: list[str]
) -> None:
    assert main(["match", *_files(tmp_path, seekers, offers, caps)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    for piece in expected:
        assert piece in err
    assert "Traceback" not in err


def test_unknown_method_is_refused(tmp_path: Path, capsys: Any) -> None:
    assert main(["match", "--method", "greedy", *_files(tmp_path, SEEKERS, OFFERS, CAPS)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown matching method" in err and "greedy" in err and "stable, optimal" in err


def test_incomplete_research_options(tmp_path: Path, capsys: Any) -> None:
    assert main(["match", "--seeker-ranks", str(_write(tmp_path, "s.csv", SEEKERS))]) == 2
    assert "needs all of" in capsys.readouterr().err


def test_table_mode_writes_report(tmp_path: Path) -> None:
    seekers, offers = market_2017(seed=8, n_seekers=400)
    seekers.to_csv(tmp_path / "needs.csv", index=False)
    offers.to_csv(tmp_path / "offers.csv", index=False)
    args = [
        "match",
        "--needs",
        str(tmp_path / "needs.csv"),
        "--offers",
        str(tmp_path / "offers.csv"),
    ]
    assert main([*args, "--report", str(tmp_path / "rep"), "--out", str(tmp_path / "m.csv")]) == 0
    for name in ("overall", "by_county", "by_status", "comparison", "proposals"):
        assert (tmp_path / "rep" / f"{name}.csv").exists()
    out = pd.read_csv(tmp_path / "m.csv", dtype=str, keep_default_na=False)
    assert len(out) == 400


def test_registry_mode_and_rounds(tmp_path: Path, capsys: Any) -> None:
    from dongxi.store import db
    from dongxi.store.market_models import proposal_history, save_needs, save_offers

    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine, load_reference=False)
    seekers, offers = market_2017(seed=9, n_seekers=200)
    save_needs(engine, seekers, actor="t")
    save_offers(engine, offers, actor="t")
    assert main(["match", "--url", url, "--report", str(tmp_path / "rep")]) == 0
    text = capsys.readouterr().out
    run_id = text.split("run ")[1].split(":")[0].strip()
    history = proposal_history(engine, [run_id])
    first, second = (str(int(x)) for x in history["proposal_id"].iloc[:2])
    base = ["--url", url]
    assert (
        main(["proposal", "respond", first, "accepted", "--actor", "s1", "--role", "seeker", *base])
        == 0
    )
    assert (
        main(
            ["proposal", "respond", first, "confirmed", "--actor", "p", "--role", "partner", *base]
        )
        == 0
    )
    assert (
        main(["proposal", "outcome", first, "--hired", "--actor", "c", "--wage", "3900", *base])
        == 0
    )
    assert (
        main(
            [
                "proposal",
                "respond",
                second,
                "declined_by_seeker",
                "--actor",
                "s2",
                "--role",
                "seeker",
                *base,
            ]
        )
        == 0
    )
    assert (
        main(
            ["proposal", "respond", second, "accepted", "--actor", "s2", "--role", "seeker", *base]
        )
        == 2
    )
    assert "cannot go" in capsys.readouterr().err
    assert main(["match", "--url", url, "--after", run_id]) == 0
    text = capsys.readouterr().out
    run2 = text.split("run ")[1].split(":")[0].strip()
    assert "round 2" in text and "(1 kept)" in text
    nxt = proposal_history(engine, [run2]).set_index("seeker_id")
    row = history.iloc[0]
    assert nxt.loc[row["seeker_id"], "offer_id"] == row["offer_id"]
    assert nxt.loc[row["seeker_id"], "state"] == "confirmed"
    declined = history.iloc[1]
    if declined["seeker_id"] in nxt.index:
        assert nxt.loc[declined["seeker_id"], "offer_id"] != declined["offer_id"]
    engine.dispose()
