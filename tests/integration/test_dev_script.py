"""scripts/dev: what it prints says which code is which, and it keeps the demo to this machine unless asked."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path


DEV = Path(__file__).resolve().parents[2] / "scripts" / "dev"


def test_flask_demo_labels_each_survey_url_with_its_branch_code_and_kind(app):
    with app.app_context():  # `flask` pushes one for every command
        result = app.test_cli_runner().invoke(args=["demo", "--responses", "0"])
    assert result.exit_code == 0, result.output
    surveys = [line for line in result.output.splitlines() if line.startswith("survey: ")]
    assert len(surveys) == 4  # an entrance code per branch and the Shanghai kiosk
    assert "survey: SH-PEOPLE 上海人民广场店 | 入口 Entrance | poster: http://localhost/s/" in result.output
    assert "survey: LDN-SOHO London Soho | 入口 Entrance | poster: http://localhost/s/" in result.output
    kiosk = [line for line in surveys if line.split(": http")[0].endswith("| kiosk")]
    assert len(kiosk) == 1 and kiosk[0].startswith("survey: SH-PEOPLE ")
    # bench/run and bench/first_load_run take the token as what follows /s/ (sed 's|^survey: .*/s/||p')
    tokens = [re.sub(r"^survey: .*/s/", "", line) for line in surveys]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{8,43}", token) for token in tokens), tokens


def test_scripts_dev_listens_on_localhost_unless_loopdesk_bind_says_otherwise():
    script = DEV.read_text()
    assert 'BIND=${LOOPDESK_BIND:-127.0.0.1}' in script
    assert '--bind "$BIND:$PORT"' in script and "0.0.0.0:$PORT" not in script
    subprocess.run(["bash", "-n", str(DEV)], check=True)  # still parses


def test_scripts_dev_starts_a_process_again_when_it_stops_and_stops_it_with_itself(tmp_path):
    import os
    import time

    script = DEV.read_text()
    assert "wait -n" not in script  # one process stopping no longer stops the others
    keep = re.search(r"^keep\(\) \{.*?^\}$", script, re.S | re.M).group(0)
    runs = tmp_path / "runs"
    # The first run stops at once (as a worker whose Redis is away at start-up); the second one stays.
    child = f'n=$(cat {runs} 2>/dev/null | wc -l); echo $$ >> {runs}; [ "$n" -ge 1 ] && exec sleep 60; exit 3'
    harness = tmp_path / "harness.sh"
    harness.write_text(f"set -euo pipefail\n{keep}\nkeep bash -c '{child}'\n")
    process = subprocess.Popen(["bash", str(harness)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not runs.exists() or len(runs.read_text().split()) < 2):
        time.sleep(0.1)
    pids = [int(pid) for pid in runs.read_text().split()]
    assert len(pids) == 2
    process.terminate()
    assert process.wait(timeout=10) == 0
    assert "stopped (exit 3); starting it again in 2 s" in process.stderr.read()
    time.sleep(0.2)
    try:
        os.kill(pids[1], 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the process kept alive outlived scripts/dev"
