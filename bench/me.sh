#!/usr/bin/env bash
# me.sh - setup of bench/me.lua: a new account's session token (bench/accounts.sh)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/accounts.sh" me
