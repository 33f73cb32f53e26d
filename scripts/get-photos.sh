#!/usr/bin/env bash
# Install real photographs for the corpus generator and print their paths, one per line.
#
# Debian's mate-backgrounds package carries twelve photographs (flowers, grass, a storm, water drops, wood)
# in /usr/share/backgrounds/mate/nature. They are used at test time only and never committed.
#
#   scripts/get-photos.sh            # install if needed (root, or sudo), then list the photos
#   SCENESCOPE_PHOTOS=$(dirname "$(scripts/get-photos.sh | head -1)")
set -euo pipefail

DIR=/usr/share/backgrounds/mate/nature
PACKAGE=mate-backgrounds

if ! ls "$DIR"/*.jpg >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show "$PACKAGE" >/dev/null 2>&1; then
    $SUDO apt-get update -qq >&2
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "$PACKAGE" >&2
fi

if ! ls "$DIR"/*.jpg >/dev/null 2>&1; then
  echo "get-photos: $PACKAGE did not provide $DIR/*.jpg" >&2
  exit 1
fi
ls -1 "$DIR"/*.jpg
