"""Serves the dbt docs site of a generated target folder (`dbt docs generate`: index.html,
manifest.json, catalog.json) on 127.0.0.1, as `dbt docs serve` does but on a threaded server (a
browser opens several connections at once), and takes headless-Chromium screenshots of the
overview and of one model's page; fails unless the overview is the project's own (not dbt's
default) and the model page shows the model and its columns.

    python scripts/docs_screenshot.py TARGET_DIR OUT_DIR

Needs Debian's chromium (/usr/bin/chromium). Writes OUT_DIR/overview.png and OUT_DIR/model.png.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "enr_domestic_latest_by_uprn"
PAGES = {"overview": "#!/overview", "model": f"#!/model/model.dame_epc.{MODEL}"}
OURS = "From the APIs to the marts"  # the project's overview (dbt_project/models/overview.md)
DEFAULT = "auto-generated documentation"  # dbt's own overview page
# as the machine's Chromium must run here: no sandbox as root, nothing fetched beyond loopback
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1000", "--virtual-time-budget=20000",
]  # fmt: skip


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        pass


def chromium(*args: str, profile: Path) -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("error: chromium is not installed (Debian: apt-get install chromium)")
    done = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"error: chromium failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def main(target: Path, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(target))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name, fragment in PAGES.items():
            url = f"http://127.0.0.1:{port}/{fragment}"
            dom = chromium("--dump-dom", url, profile=out / f".profile-{name}")
            chromium(f"--screenshot={out / f'{name}.png'}", url, profile=out / f".profile-{name}")
            if name == "overview" and (OURS not in dom or DEFAULT in dom):
                raise SystemExit("error: the docs open on dbt's default overview, not the project's")
            if name == "model" and (MODEL not in dom or "certificates_for_property" not in dom):
                raise SystemExit(f"error: the page of {MODEL} does not show the model and its columns")
            size = (out / f"{name}.png").stat().st_size
            if size < 20_000:
                raise SystemExit(f"error: the screenshot of the {name} page is nearly empty ({size} bytes)")
            print(f"{name}: {out / f'{name}.png'} ({size:,} bytes)")
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
