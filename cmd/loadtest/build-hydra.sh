#!/usr/bin/env bash
# build-hydra.sh DIR — builds Ory Hydra (the pinned version below) from the Go
# module proxy into DIR/hydra, in a throw-away module of its own in DIR, so
# that Hydra never enters this project's go.mod. `make hydra` runs it;
# `make loadtest HYDRA=DIR/hydra` then runs the hydra-token scenario.
#
# Hydra's own go.mod replaces gobuffalo/pop with Ory's fork; replace
# directives only apply in the main module, so a plain `go install` of Hydra
# builds against upstream pop and fails with
# "p.conn.Store.SQLDB undefined (type pop.store has no field or method SQLDB)".
# The same replace is repeated here, pinned to what Hydra's go.mod names.
# The tags and the version stamp are those of Hydra's Makefile (cgo SQLite).
set -euo pipefail

HYDRA_VERSION=v2.3.0
POP_REPLACE=github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b

dir=${1:?usage: build-hydra.sh DIR}
bin="$dir/hydra"
if [[ -x "$bin" && "$("$bin" version 2>&1)" == *"Version:"*" $HYDRA_VERSION"* ]]; then
  echo "$bin is Hydra $HYDRA_VERSION already"
  exit 0
fi
command -v gcc >/dev/null || { echo "build-hydra.sh: gcc is needed (cgo SQLite)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=1
[[ -f go.mod ]] || go mod init hydrabench
go get -tool "github.com/ory/hydra/v2@$HYDRA_VERSION"
go mod edit -replace "github.com/gobuffalo/pop/v6=$POP_REPLACE"
go mod tidy
go build -trimpath -tags sqlite,sqlite_omit_load_extension \
  -ldflags "-X github.com/ory/hydra/v2/driver/config.Version=$HYDRA_VERSION" \
  -o "$bin" github.com/ory/hydra/v2
"$bin" version
echo "built $bin"
