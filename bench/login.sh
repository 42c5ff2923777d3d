#!/usr/bin/env bash
# login.sh - setup of bench/login.lua: accounts and a CSRF pair (bench/accounts.sh)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/accounts.sh" login
