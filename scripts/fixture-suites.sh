#!/usr/bin/env bash
# Prints a `swift test --filter` pattern naming every test suite that reads the shared fixtures:
# the suites declared in test files that use the fixture helpers (TestSupport.fixtures, the
# .needsFixtures trait, fixtureTensors/fixtureJSON, SalienceFixture, ReferenceFiles). `make test`
# runs them once more against the second fixture set.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(grep -rlE 'needsFixtures|TestSupport\.fixtures|fixtureTensors|fixtureJSON|SalienceFixture\.|ReferenceFiles\.' \
    Tests --include='*.swift' | grep -v '^Tests/TestSupport/' || true)
[ -n "$files" ] || { echo "fixture-suites: no test file reads the fixtures" >&2; exit 1; }
# shellcheck disable=SC2086
suites=$(grep -hoE '^(@Suite[^{]*)?(final )?(struct|class) [A-Za-z0-9_]+Tests\b' $files | grep -oE '[A-Za-z0-9_]+Tests$' | sort -u)
echo "($(echo $suites | tr ' ' '|'))/"
