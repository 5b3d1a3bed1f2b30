#!/bin/sh
# Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
#
# Runs main.go against Debian's memberlist 0.2.2 (golang-github-hashicorp-memberlist-dev)
# in GOPATH mode. memberlist's envelope functions are unexported, so this builds a
# scratch GOPATH in which github.com/hashicorp/memberlist is a copy of the Debian
# package plus shim/zz_export.go, and every other import path is a symlink into
# /usr/share/gocode/src.
#
#   tests/testdata/go/crypto_vectors/run.sh vectors        # fixed-size vector set, as TypeScript
#   tests/testdata/go/crypto_vectors/run.sh open < lines   # "keyhex aadhex envelopehex" ("-" = empty) -> plaintext hex or ERR
#   tests/testdata/go/crypto_vectors/run.sh bench          # seal+open ops/s, 1400 bytes, v1, AES-256
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
