#!/bin/sh
# Install Waypost on this kiosk from this folder, with no internet.
#
#   sudo sh install.sh            install (or update), start at boot, sync every night
#   sh install.sh --no-system --prefix DIR --instance DIR
#                                 only the program, the trust root and the guidance,
#                                 into folders of your choice (no user, no services)
#
# Made by `waypost kiosk make-installer` on a connected computer.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=/opt/waypost
INSTANCE=/var/lib/waypost
SYSTEM=yes
PYTHON=python3

fail() { echo "error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --instance) INSTANCE=$2; shift 2 ;;
    --python) PYTHON=$2; shift 2 ;;
    --no-system) SYSTEM=no; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) fail "unknown option $1 (see: sh install.sh --help)" ;;
  esac
done

cd "$HERE"
# A stick can be damaged, or the folder half copied: check every file first.
sha256sum -c --quiet --strict SHA256SUMS || fail "this installer's files are damaged or incomplete: copy the folder again"
if [ "$SYSTEM" = yes ] && [ "$(id -u)" != 0 ]; then
  fail "run it as root: sudo sh install.sh"
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || fail "Waypost needs Python 3.11 or newer ($PYTHON is missing or older): Debian 12 and Raspberry Pi OS 12 have it"

echo "1/4 Installing the program into $PREFIX (from this folder only)"
# No pip configuration of this machine applies, and no index is ever asked.
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS || true
# --without-pip: Debian's python3 has no ensurepip unless python3-venv is
# installed; pip comes from its own wheel here instead.
"$PYTHON" -m venv --without-pip "$PREFIX"
PIP_WHEEL=$(ls wheels/pip-*.whl | head -n 1)
"$PREFIX/bin/python" "$PIP_WHEEL/pip" install --quiet --no-index --find-links wheels "$PIP_WHEEL"
"$PREFIX/bin/python" -m pip install --quiet --no-index --find-links wheels --require-hashes -r requirements.txt \
  || fail "the wheels in this folder do not fit this machine (made for another processor or Python?): make the installer again"
"$PREFIX/bin/python" -m pip install --quiet --no-index --no-deps --force-reinstall wheels/waypost-*.whl

RUN=""
if [ "$SYSTEM" = yes ]; then
  echo "2/4 Creating the waypost user and its folder $INSTANCE"
  id -u waypost >/dev/null 2>&1 || useradd --system --user-group --home-dir "$INSTANCE" --shell /usr/sbin/nologin waypost
  install -d -o waypost -g waypost -m 0750 "$INSTANCE"
  install -d -m 0755 /etc/waypost
  [ -f /etc/waypost/waypost.env ] || install -m 0644 deploy/waypost.env /etc/waypost/waypost.env
  RUN="runuser -u waypost --"
else
  echo "2/4 No system user (--no-system): the instance folder is $INSTANCE"
  mkdir -p "$INSTANCE"
fi

echo "3/4 Trusting the publisher and loading the guidance"
# A desktop mounts a stick for its own user only: hand the two files over in a
# folder the waypost user can read.
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
install -m 0644 root.json guidance.bundle "$STAGE/"
chmod 0755 "$STAGE"
$RUN env WAYPOST_INSTANCE_PATH="$INSTANCE" "$PREFIX/bin/waypost" keys trust "$STAGE/root.json"
# Already installed (an update of the program alone) is not a failure.
$RUN env WAYPOST_INSTANCE_PATH="$INSTANCE" "$PREFIX/bin/waypost" bundle import "$STAGE/guidance.bundle" \
  || echo "note: the guidance in this folder was not installed (see the line above); the kiosk keeps what it had"

if [ "$SYSTEM" = yes ]; then
  echo "4/4 Starting Waypost now and at every boot; nightly sync; USB stick updates"
  install -m 0644 systemd/waypost.service systemd/waypost-sync.service systemd/waypost-sync.timer \
    systemd/waypost-usb.service /etc/systemd/system/
  install -m 0644 udev/99-waypost-usb.rules /etc/udev/rules.d/
  systemctl daemon-reload
  udevadm control --reload 2>/dev/null || true
  systemctl enable waypost.service waypost-usb.service waypost-sync.timer
  systemctl restart waypost.service waypost-usb.service
  systemctl start waypost-sync.timer
  echo "Done. Phones on this network can open:"
  for ip in $(hostname -I 2>/dev/null); do echo "  http://$ip/"; done
  echo "Print the poster from http://localhost/en/poster; see what the kiosk does at http://localhost/en/status"
else
  echo "4/4 No services (--no-system). Start the server with:"
  echo "  WAYPOST_INSTANCE_PATH=$INSTANCE $PREFIX/bin/waypost serve --host 0.0.0.0"
fi
