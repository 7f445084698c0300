# Sourced by scripts/dev and scripts/test: make .venv and install the project (again only when pyproject.toml changed).
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV"
  python3 -m venv "$VENV"
fi
extras=${1:-}
stamp="$VENV/.installed${extras:+-$extras}"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing Loopdesk${extras:+ with [$extras]} into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$want" > "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
