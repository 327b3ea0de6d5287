#!/usr/bin/env bash
# npm run test:eventstoredb — the event-store contract suite and the e2e suite against a REAL
# EventStoreDB/KurrentDB server given by PEAQOS_EVENTSTORE_CONNECTION_STRING, for example
#   PEAQOS_EVENTSTORE_CONNECTION_STRING='esdb://127.0.0.1:2113?tls=false' npm run test:eventstoredb
# Use a dedicated, disposable server (docker compose up eventstoredb, or --mem-db): the tests write to it.
# Extra arguments go to jest (e.g. -t 'subscribeAll').
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PEAQOS_EVENTSTORE_CONNECTION_STRING:-}" ]; then
  echo "skipped: PEAQOS_EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server in this environment)"
  exit 0
fi

# Never print credentials or options: scheme and hosts only.
target=$(printf '%s' "$PEAQOS_EVENTSTORE_CONNECTION_STRING" | sed -E 's#(://)[^@/]*@#\1#; s#[?].*$##')
echo "Running the event-store contract suite and the e2e suite against ${target}"
export PEAQOS_TEST_EVENTSTORE_CONNECTION_STRING="$PEAQOS_EVENTSTORE_CONNECTION_STRING"

# jest.config.js, plus: only the real-server contract runner (not part of `npm test`: its name does not
# end in .spec.ts) and the e2e suite, whose test app is swapped for one on the server
# (test/support/eventstoredb-emulator/real-server-test-app.ts), one test file at a time.
exec npx jest \
  --roots '<rootDir>/test' \
  --testMatch '<rootDir>/test/contract/eventstoredb-real-server.contract-run.ts' '<rootDir>/test/e2e/**/*.e2e.spec.ts' \
  --moduleNameMapper '{"^\\.\\./support/test-app$": "<rootDir>/test/support/eventstoredb-emulator/real-server-test-app.ts"}' \
  --maxWorkers 1 \
  "$@"
