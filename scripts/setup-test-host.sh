#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine (as root) for the test suite: the packages the server tests use
# and the two database servers, started if they are not running. Node 24 itself comes with
# `npm install` (the workspace's `node` devDependency, first on PATH in every npm script).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# A real OpenSSH server for the server agent's test hosts, network namespaces and firewall tools
# for network faults inside them, stress-ng for CPU/memory stress, sudo for the sudo-over-SSH test,
# openssl for the Kubernetes API simulator's certificate.
packages=(openssh-server openssh-client iproute2 iptables stress-ng procps sudo openssl)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The machine's PostgreSQL (trust auth) and MariaDB (root, no password): started if not running.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for _ in $(seq 1 60); do
  if pg_isready -h 127.0.0.1 -p 5432 -q && mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then break; fi
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "setup: PostgreSQL does not answer at 127.0.0.1:5432" >&2; exit 1; }
mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 || { echo "setup: MariaDB does not answer at 127.0.0.1:3306" >&2; exit 1; }
echo "setup: packages present, PostgreSQL and MariaDB answering"
