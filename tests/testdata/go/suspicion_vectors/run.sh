#!/bin/sh
# Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
#
# Runs main.go against Debian's memberlist 0.2.2 (golang-github-hashicorp-memberlist-dev)
# in GOPATH mode. remainingSuspicionTime is unexported, so this builds a scratch
# GOPATH in which github.com/hashicorp/memberlist is a copy of the Debian package
# plus shim/zz_export.go, and every other import path is a symlink into
# /usr/share/gocode/src. (The function is the same in memberlist 0.2.2 and 1b4c746.)
#
#   tests/testdata/go/suspicion_vectors/run.sh table          # the table in tests/suspicion_test.ts
#   tests/testdata/go/suspicion_vectors/run.sh sweep N SEED   # N random cases, one "n k elapsed min max expected" line each (ms)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=${GOCODE_SRC:-/usr/share/gocode/src}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

mkdir -p "$tmp/src/github.com/hashicorp"
for d in "$src"/*; do
  [ "$(basename "$d")" = github.com ] || ln -s "$d" "$tmp/src/"
done
for d in "$src"/github.com/*; do
  [ "$(basename "$d")" = hashicorp ] || ln -s "$d" "$tmp/src/github.com/"
done
for d in "$src"/github.com/hashicorp/*; do
  [ "$(basename "$d")" = memberlist ] || ln -s "$d" "$tmp/src/github.com/hashicorp/"
done
cp -R "$src/github.com/hashicorp/memberlist" "$tmp/src/github.com/hashicorp/memberlist"
cp "$here/shim/zz_export.go" "$tmp/src/github.com/hashicorp/memberlist/"

cd "$tmp"
GO111MODULE=off GOPATH="$tmp" GOFLAGS= go run "$here/main.go" "$@"
