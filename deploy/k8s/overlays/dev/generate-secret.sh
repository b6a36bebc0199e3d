#!/usr/bin/env bash
# Writes postgres.env (gitignored) next to this script: the dev overlay's Secret "fedcollm-postgres", one random
# password for the in-cluster PostgreSQL and the same one in the nodes' connection string. Keeps an existing file,
# since PostgreSQL only reads the password when it first initialises its volume.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f postgres.env ]; then
  echo "postgres.env exists; kept (delete it and the postgres volume to start over)." >&2
  exit 0
fi
password=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
umask 077
printf 'POSTGRES_PASSWORD=%s\nFEDCOLLM_POSTGRES=Host=postgres;Port=5432;Username=fedcollm;Password=%s;Database=fedcollm\n' "$password" "$password" > postgres.env
echo "wrote $(pwd)/postgres.env"
