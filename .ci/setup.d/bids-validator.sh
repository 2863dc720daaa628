#!/usr/bin/env bash
# The official BIDS validator (npm package bids-validator, the node CLI with --json) for the
# BIDS-motion export tests (tests/interop/test_bids.py). Sourced by .ci/run: installs
# node/npm from the distribution if missing and the validator into its own prefix, once;
# exports BIDS_VALIDATOR (the executable). Idempotent: a second run only checks the version.
BIDS_VALIDATOR_VERSION="${BIDS_VALIDATOR_VERSION:-1.15.0}"
BIDS_VALIDATOR_PREFIX="${BIDS_VALIDATOR_PREFIX:-/opt/bids-validator}"
BIDS_VALIDATOR="$BIDS_VALIDATOR_PREFIX/bin/bids-validator"
if ! command -v npm >/dev/null 2>&1; then
    echo "ci: installing node and npm (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if [ "$("$BIDS_VALIDATOR" --version 2>/dev/null)" != "$BIDS_VALIDATOR_VERSION" ]; then
    echo "ci: installing bids-validator $BIDS_VALIDATOR_VERSION (npm) into $BIDS_VALIDATOR_PREFIX"
    npm install --global --prefix "$BIDS_VALIDATOR_PREFIX" --no-audit --no-fund --loglevel=error \
        "bids-validator@$BIDS_VALIDATOR_VERSION" >/dev/null
fi
"$BIDS_VALIDATOR" --version >/dev/null
export BIDS_VALIDATOR
