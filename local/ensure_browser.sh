#!/usr/bin/env sh
# The browser tests drive Debian's Chromium through chromium-driver (Selenium). Installs both when
# missing and allowed to (root with apt-get, as on CI); otherwise says what to install.
set -eu
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  exit 0
fi
echo "The browser tests need Chromium and its driver: sudo apt-get install chromium chromium-driver" >&2
exit 1
