"""Static files as a phone on a weak network should get them: compressed once at build time, cached for good.

`scripts/static` (run by scripts/dev, scripts/test and the benchmarks, as scripts/translations is) builds
app/static/ into app/static_built/ (git-ignored): each file under a name with its content hash
(`loopdesk.3f2a9c1b7e4d.css`), beside it a brotli copy at the maximum quality and a gzip copy at level 9
(WhiteNoise's compressor), and `manifest.json`, which names the built file of each source file.

At run time WhiteNoise answers /static/ ahead of Flask: the copy the client's Accept-Encoding takes (brotli, else
gzip, else the plain file; `Vary: Accept-Encoding`), `Cache-Control: immutable` for a year and more, since a
changed file gets another name. Templates name static files only through `static_url('loopdesk.css')`.

The survey's pages carry their stylesheet inline instead: `inline_stylesheet('loopdesk.css')` writes it into a
<style> element that the Content-Security-Policy allows by its SHA-256 (`inline_style_hashes()`, no
'unsafe-inline'). On slow 3G a linked stylesheet costs a round trip (400 ms) before the first paint, while the
1.2 KB it adds to each (never cached) survey page cost 25 ms; staff pages keep their linked, cached files.

A checkout where scripts/static has not run serves app/static as it is (uncompressed, the plain names) and says
so in the log; so does an app whose sources changed since the last build.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from wsgiref.headers import Headers

from flask import Flask
from markupsafe import Markup
from whitenoise import WhiteNoise

log = logging.getLogger(__name__)

SOURCE = Path(__file__).parent / "static"
BUILT = Path(__file__).parent / "static_built"
URL_PREFIX = "/static/"
#: The stylesheets a page may carry inline (see the module's docstring); a few KB each at most.
INLINE_STYLESHEETS = ("loopdesk.css",)
#: A built name: the source's stem, 12 hex digits of the content's SHA-256, the extension.
HASHED_NAME = r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$"


def built_name(name: str, content: bytes) -> str:
    """`css/loopdesk.css` → `css/loopdesk.<hash>.css`: the name changes whenever the content does."""
    folder, _, file_name = name.rpartition("/")
    stem, dot, extension = file_name.rpartition(".")
    digest = hashlib.sha256(content).hexdigest()[:12]
    hashed = f"{stem}.{digest}.{extension}" if dot else f"{file_name}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def source_manifest(source: Path = SOURCE) -> dict[str, str]:
    """What a build of `source` makes: each source file's name → its built name."""
    return {
        path.relative_to(source).as_posix(): built_name(path.relative_to(source).as_posix(), path.read_bytes())
        for path in sorted(source.rglob("*"))
        if path.is_file()
    }


def inline_text(name: str, source: Path = SOURCE) -> str:
    return (source / name).read_text(encoding="utf-8")


def inline_style_hashes(source: Path = SOURCE) -> list[str]:
    """CSP sources (`'sha256-…'`) for the stylesheets a page may carry inline, exactly as they are written."""
    return [
        "'sha256-{}'".format(base64.b64encode(hashlib.sha256(inline_text(name, source).encode()).digest()).decode())
        for name in INLINE_STYLESHEETS
    ]


def read_manifest(target: Path = BUILT) -> dict[str, str] | None:
    try:
        return json.loads((target / "manifest.json").read_text())
    except FileNotFoundError:
        return None


def build(source: Path = SOURCE, target: Path = BUILT) -> bool:
    """Build `source` into `target` (see the module's docstring); False when the build there is already current.

    The build is made beside `target` and moved into place, so a half-written build is never served. It keeps the
    previous build's files: a server started before it, or a page rendered before it, still finds them.
    """
    import brotli  # noqa: F401  (WhiteNoise's compressor silently skips brotli without it)
    from whitenoise.compress import Compressor

    manifest = source_manifest(source)
    previous = read_manifest(target) or {}
    if previous == manifest and all((target / "files" / name).is_file() for name in manifest.values()):
        return False
    compressor = Compressor(quiet=True)  # brotli at quality 11 (its maximum) and gzip at level 9
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the files from a server running as another user
        for name, built in manifest.items():
            path = staging / "files" / built
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, path)
            if compressor.should_compress(path.name):
                compressor.compress(str(path))
        for built in set(previous.values()) - set(manifest.values()):
            for kept in (built, f"{built}.br", f"{built}.gz"):
                if (target / "files" / kept).is_file():
                    (staging / "files" / kept).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(target / "files" / kept, staging / "files" / kept)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return True


def init_app(app: Flask, source: Path = SOURCE, target: Path = BUILT) -> None:
    """Serve the built files at /static/ (or the sources, unbuilt) and give templates `static_url(name)`."""
    manifest = read_manifest(target)
    if manifest is None:
        log.warning("static files are not built (run scripts/static): serving %s uncompressed", source)
        root, manifest = source, {}
    else:
        root = target / "files"
        if manifest != source_manifest(source):
            log.warning("static files changed since the last build (run scripts/static): serving the last build")
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=root,
        prefix=URL_PREFIX,
        immutable_file_test=HASHED_NAME,
        allow_all_origins=False,  # the pages that use them are on the same host
        add_headers_function=_add_headers,
    )

    def static_url(name: str) -> str:
        return URL_PREFIX + manifest.get(name, name)

    inline = {name: inline_text(name, source) for name in INLINE_STYLESHEETS}

    def inline_stylesheet(name: str) -> Markup:
        """The stylesheet inline; the policy allows it by its hash."""
        return Markup("<style>{}</style>").format(Markup(inline[name]))

    app.add_template_global(static_url)
    app.add_template_global(inline_stylesheet)


def _add_headers(headers: Headers, _path: str, _url: str) -> None:
    """What of the page's security headers matters for a script or a stylesheet (the CSP applies to documents)."""
    headers["X-Content-Type-Options"] = "nosniff"


def main() -> int:
    built = build()
    print(f"static files {'built into' if built else 'up to date in'} {BUILT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
