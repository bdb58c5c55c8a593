#!/usr/bin/env bash
# Installs what gsync's demo and tests need and builds it: OpenSSH's server, GNU time, rsync and
# cron (as root, from Debian's packages, when missing), the npm dependencies (when missing), then
# the build.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
[ -x /usr/sbin/sshd ] || need_packages+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need_packages+=(openssh-client)
# The hostile-server tests measure each run's peak memory with GNU time.
[ -x /usr/bin/time ] || need_packages+=(time)
# The filter test uses rsync as its oracle: the same rules must select the same paths.
command -v rsync >/dev/null 2>&1 || need_packages+=(rsync)
# The `gsync cron` tests edit a real crontab with the crontab command (the daemon need not run).
command -v crontab >/dev/null 2>&1 || need_packages+=(cron)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_packages[@]}" >/dev/null
  else
    echo "gsync needs ${need_packages[*]}: install it (e.g. sudo apt-get install -y ${need_packages[*]}) and run this again" >&2
    exit 1
  fi
fi
# The package's own sshd must not run: the demo and tests start their own on random ports.
if [ "$(id -u)" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then systemctl disable --now ssh >/dev/null 2>&1 || true; fi

# Installed again only when the lock file's content changed: a fresh checkout (or a git worktree
# sharing node_modules) has a newer lock file by date, not by content, and `npm ci` empties
# node_modules before it fills it.
lock_stamp=node_modules/.gsync-lock-sha256
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules/.bin ] || [ "$(cat "$lock_stamp" 2>/dev/null)" != "$lock_sha" ]; then
  npm ci --no-audit --no-fund
  echo "$lock_sha" >"$lock_stamp"
fi
npm run --silent build >/dev/null
