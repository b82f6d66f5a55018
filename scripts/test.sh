#!/usr/bin/env bash
# Runs every Roster test, on a fresh machine too: installs and starts what the tests talk to
# (Chromium, MailDev, PostgreSQL), exports ROSTER_TEST_* for internal/testenv, then checks
# formatting, vets, runs `go test ./...` and the short fuzz runs. Each set-up step does nothing
# when its piece is already there. CI runs this through .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MAILDEV_VERSION=2.2.1
PG_PORT=5432

say() { printf '==> %s\n' "$*"; }
die() { printf 'scripts/test.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  say "apt-get install $*"
  if [[ $apt_updated -eq 0 ]]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null
}

ensure_go() {
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
    export PATH="$PATH:/usr/local/go/bin"
  fi
  command -v go >/dev/null || die "go is not installed (expected /usr/local/go/bin/go)"
}

ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return
  apt_install chromium fonts-liberation
}

ensure_maildev() {
  local pkg=.tools/node_modules/maildev/package.json
  if [[ -x .tools/node_modules/.bin/maildev ]] && grep -q "\"version\": \"$MAILDEV_VERSION\"" "$pkg" 2>/dev/null; then
    return
  fi
  command -v npm >/dev/null || apt_install nodejs npm
  say "npm install maildev@$MAILDEV_VERSION into .tools/"
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "maildev@$MAILDEV_VERSION" </dev/null
}

# ensure_cas_server: the real CAS peer of the single sign-on tests is Debian's
# python3-django-cas-server, run by the system Python (the tests build a Django project).
CAS_PYTHON=/usr/bin/python3
ensure_cas_server() {
  if [[ -x $CAS_PYTHON ]] && "$CAS_PYTHON" -c 'import cas_server, django' >/dev/null 2>&1; then
    return
  fi
  apt_install python3-django-cas-server
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 1 >/dev/null 2>&1; }

# psql_as ROLE DB SQL: runs SQL over TCP without a password prompt, printing bare values.
psql_as() { psql -h 127.0.0.1 -p "$PG_PORT" -U "$1" -d "$2" -w -X -qtAc "$3" </dev/null; }

ensure_postgres() {
  if ! pg_ready; then
    if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
      apt_install postgresql
    fi
    local version
    version=$(ls /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1 | cut -d/ -f5)
    if [[ ! -d /etc/postgresql/$version/main ]]; then
      say "creating PostgreSQL $version cluster 'main' on port $PG_PORT"
      as_root pg_createcluster -p "$PG_PORT" "$version" main </dev/null
    fi
    say "starting PostgreSQL $version cluster 'main'"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start </dev/null || true
    for _ in $(seq 60); do pg_ready && break; sleep 0.5; done
    pg_ready || die "PostgreSQL does not answer on 127.0.0.1:$PG_PORT (see /var/log/postgresql/)"
  fi

  PG_ROLE=""
  for role in postgres root; do
    if psql_as "$role" postgres 'SELECT 1' >/dev/null 2>&1; then PG_ROLE=$role; break; fi
  done
  if [[ -z "$PG_ROLE" ]]; then
    # A stock Debian cluster asks for passwords over TCP: trust 127.0.0.1, as the tests expect.
    local hba
    hba=$(as_root runuser -u postgres -- psql -p "$PG_PORT" -X -qtAc 'SHOW hba_file' </dev/null)
    say "allowing trust auth from 127.0.0.1 in $hba"
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    as_root runuser -u postgres -- psql -p "$PG_PORT" -X -qtAc 'SELECT pg_reload_conf()' </dev/null >/dev/null
    psql_as postgres postgres 'SELECT 1' >/dev/null || die "cannot connect to PostgreSQL as postgres over 127.0.0.1"
    PG_ROLE=postgres
  fi
  if [[ "$(psql_as "$PG_ROLE" postgres "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]]; then
    say "creating database test"
    psql_as "$PG_ROLE" postgres 'CREATE DATABASE test' >/dev/null
  fi
  export ROSTER_TEST_POSTGRES="postgres://$PG_ROLE@127.0.0.1:$PG_PORT/test?sslmode=disable"
}

# fuzz_briefly gives each fuzz target a short run after the tests. Add a target as
# "PACKAGE FUNCTION", e.g. "./internal/importer FuzzParseCSV". A failing input is written to
# the package's testdata/fuzz/ folder: commit it, and it becomes a regular test case.
FUZZ_TARGETS=(
  "./internal/scim FuzzParseFilter"
  "./internal/invite FuzzParseAddresses"
  "./internal/bulk FuzzParse"
)
# Go's fuzzing engine sometimes ends a run with "context deadline exceeded" and no failing input
# when a worker answers late at the end of the time (a busy machine): such a run is tried once
# more. A real failure writes its input under testdata/fuzz/ and is never retried.
fuzz_briefly() {
  local entry pkg name out
  for entry in ${FUZZ_TARGETS[@]+"${FUZZ_TARGETS[@]}"}; do
    read -r pkg name <<<"$entry"
    say "fuzzing $name in $pkg for 10s"
    if out=$(go test -run='^$' -fuzz="^${name}\$" -fuzztime=10s "$pkg" 2>&1); then
      printf '%s\n' "$out"
      continue
    fi
    printf '%s\n' "$out"
    if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written to' <<<"$out"; then
      say "fuzzing $name again: the engine timed out without a failing input"
      go test -run='^$' -fuzz="^${name}\$" -fuzztime=10s "$pkg" || return 1
    else
      return 1
    fi
  done
}

start=$SECONDS
ensure_go
ensure_chromium
ensure_maildev
ensure_postgres
ensure_cas_server
export ROSTER_TEST_CAS_PYTHON=$CAS_PYTHON
export ROSTER_TEST_MAILDEV="$PWD/.tools/node_modules/.bin/maildev"
export ROSTER_TEST_CHROMIUM=/usr/bin/chromium
export ROSTER_TEST_SHOTS="$PWD/.shots"   # the screenshots each browser journey keeps
export ROSTER_TEST_REQUIRE=1
say "set-up done in $((SECONDS - start))s: ROSTER_TEST_POSTGRES=$ROSTER_TEST_POSTGRES ROSTER_TEST_MAILDEV=$ROSTER_TEST_MAILDEV ROSTER_TEST_CHROMIUM=$ROSTER_TEST_CHROMIUM ROSTER_TEST_CAS_PYTHON=$ROSTER_TEST_CAS_PYTHON ROSTER_TEST_REQUIRE=1"

say "gofmt"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t gofiles < <(git ls-files --cached --others --exclude-standard -- '*.go')
else
  mapfile -t gofiles < <(find . -name '*.go' -not -path './.tools/*')
fi
if [[ ${#gofiles[@]} -gt 0 ]]; then
  unformatted=$(gofmt -l "${gofiles[@]}")
  [[ -z "$unformatted" ]] || die "gofmt would change these files (run gofmt -w):
$unformatted"
fi

say "go vet ./..."
go vet ./...

# go test -v, shown without its RUN/PASS chatter, then one count line at the end.
say "go test ./..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
go test -count=1 -timeout 20m -v ./... 2>&1 | tee "$log" |
  grep --line-buffered -vE '^=== (RUN|PAUSE|CONT|NAME)|^ *--- PASS: |^PASS$'
status=${PIPESTATUS[0]}
set -e
if [[ $status -eq 0 ]]; then
  fuzz_briefly || status=1
fi
passed=$(grep -cE '^ *--- PASS: ' "$log" || true)
failed=$(grep -cE '^ *--- FAIL: ' "$log" || true)
skipped=$(grep -cE '^ *--- SKIP: ' "$log" || true)
grep -E $'^FAIL\t' "$log" || true # failed packages, again, next to the count
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
