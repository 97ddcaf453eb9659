#!/usr/bin/env bash
# Installs what the VS Code tests need on a fresh Debian machine that reaches only apt and the
# npm registry (see docs/testing-vscode.md): Chromium, code-server 4.100.3 (VS Code
# 1.100) in .tools/, and the build dependencies of code-server's native modules. Idempotent:
# a second run does nothing but check.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
code_server_version="4.100.3"
started=$(date +%s)

say() { printf '[ci-setup] %s\n' "$*"; }

# 1. Debian packages: chromium (browser tests), libkrb5-dev (code-server's kerberos module),
#    ripgrep (stands in for the ripgrep download @vscode/ripgrep would make).
missing=()
for pkg in chromium libkrb5-dev ripgrep; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
for tool in make g++ python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=(build-essential python3)
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  say "apt-get install ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u)
fi

if [ -x "$tools/node_modules/.bin/code-server" ] &&
  "$tools/node_modules/.bin/code-server" --version 2>/dev/null | grep -q "^$code_server_version"; then
  say "code-server $code_server_version already in .tools/ ($(($(date +%s) - started)) s)"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" != "20" ]; then
  say "code-server $code_server_version needs Node 20; this is Node $(node -v)" >&2
  exit 1
fi

# 2. Seed @vscode/ripgrep's download cache with the system rg: its postinstall looks for
#    $TMPDIR/vscode-ripgrep-cache-<package version>/ripgrep-<tag>-<target>.tar.gz before it
#    goes to GitHub. The versions are read from the packages themselves, not guessed.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "code-server@$code_server_version" >/dev/null)
tar -xzf "$work/code-server-$code_server_version.tgz" -C "$work" package/lib/vscode/npm-shrinkwrap.json
rg_pkg_version=$(node -e '
  const w = require(process.argv[1]);
  process.stdout.write(w.packages["node_modules/@vscode/ripgrep"].version);' "$work/package/lib/vscode/npm-shrinkwrap.json")
mkdir -p "$work/rg" && (cd "$work/rg" && npm pack --silent "@vscode/ripgrep@$rg_pkg_version" >/dev/null)
tar -xzf "$work/rg/vscode-ripgrep-$rg_pkg_version.tgz" -C "$work/rg"
rg_tag=$(sed -n "s/^const VERSION = '\(v[^']*\)'.*/\1/p" "$work/rg/package/lib/postinstall.js")
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) say "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$rg_pkg_version"
mkdir -p "$cache"
tarball="$cache/ripgrep-$rg_tag-$rg_target.tar.gz"
if [ ! -s "$tarball" ]; then
  cp "$(command -v rg)" "$work/rg-bin" && mv "$work/rg-bin" "$work/rg/rg"
  tar -czf "$tarball" -C "$work/rg" rg
fi
say "seeded $tarball"

# 3. code-server itself, into .tools/ (gitignored), from the npm registry only.
mkdir -p "$tools"
say "npm install code-server@$code_server_version into .tools/ (about two minutes)"
npm_config_yes=true npm install --prefix "$tools" --no-save --no-audit --no-fund --unsafe-perm=true \
  "code-server@$code_server_version"
"$tools/node_modules/.bin/code-server" --version
say "done in $(($(date +%s) - started)) s"
