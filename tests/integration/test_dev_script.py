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
