import csv

import pytest
from conftest import write_wav
from signals import voice
from typer.testing import CliRunner

from voice_coach.app.batch import AgentIdentity
from voice_coach.cli.main import app
from voice_coach.errors import ConfigError


@pytest.fixture
def calls(tmp_path):
    root = tmp_path / "calls"
    for agent, n in (("alice", 2), ("bob", 1)):
        for i in range(n):
            (root / agent).mkdir(parents=True, exist_ok=True)
            write_wav(root / agent / f"call{i}.wav", voice(6, f0_hz=110 + 20 * i, seed=i))
    (root / "bob" / "broken.wav").write_text("not audio")
    return root


def test_folder_in_parallel_with_summary_index_and_agents(calls, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "analyze",
            str(calls),
            "-r",
            "--jobs",
            "2",
            "--json",
            str(out),
            "--html",
            str(out),
            "--summary",
            str(out / "summary.csv"),
            "--agent-from",
            r"(?P<agent>[^/]+)/[^/]+$",
            "-q",
        ],
    )
    assert res.exit_code == 1  # the broken file
    assert "broken.wav" in res.output and "1 of 4 recordings failed" in res.output
    # alice/call0 and bob/call0 share a stem: their outputs keep their folders, none is overwritten.
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.json")) == [
        "alice/call0.json",
        "alice/call1.json",
        "bob/call0.json",
    ]
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == 3
    assert sorted(r["agent"] for r in rows) == ["alice", "alice", "bob"]
    assert {
        "calm_score",
        "warnings_loud",
        "speaking_rate_wpm",
        "pitch_vs_baseline_st",
        "loudness_vs_baseline_db",
    } <= set(rows[0])
    index = (out / "summary.html").read_text()
    assert "By agent" in index and ".html" in index


def test_agent_identity_from_regex_and_sidecar(tmp_path):
    from pathlib import Path

    who = AgentIdentity(r"agents/(?P<agent>\w+)/")
    assert who(Path("/data/agents/carol/x.wav")) == "carol" and who(Path("/data/x.wav")) is None
    side = tmp_path / "map.csv"
    side.write_text("file,agent\nx.wav,dave\n")
    assert AgentIdentity(sidecar=side)(Path("/any/x.wav")) == "dave"
    with pytest.raises(ConfigError, match="named group"):
        AgentIdentity(r"agents/(\w+)/")
    side.write_text("name,who\n")
    with pytest.raises(ConfigError, match="columns 'file' and 'agent'"):
        AgentIdentity(sidecar=side)
