# Shared by scripts/up, scripts/test and .ci/run: make sure PostgreSQL and Redis (and, for the
# tests, an S3-compatible server) answer, installing and starting them when they do not.
# Source it; it defines functions only.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# answers HOST PORT: true when something accepts TCP connections there.
answers() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# url_host_port URL DEFAULT_PORT: prints "host port" of a postgres://, redis:// or http:// URL.
url_host_port() {
  local rest=${1#*://}
  rest=${rest#*@}
  rest=${rest%%/*}
  rest=${rest%%\?*}
  local host=${rest%%:*} port=$2
  [ "$rest" != "$host" ] && port=${rest##*:}
  [ -z "$host" ] && host=127.0.0.1
  [ "$host" = localhost ] && host=127.0.0.1
  echo "$host $port"
}

wait_for() {
  local what=$1 host=$2 port=$3
  for _ in $(seq 1 60); do
    answers "$host" "$port" && return 0
    sleep 0.5
  done
  echo "error: $what does not answer on $host:$port" >&2
  return 1
}

apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "error: $* missing and this is not a Debian/Ubuntu machine; install it yourself" >&2
    return 1
  fi
  echo "==> installing $* from the distribution's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  local url=${1:-postgres://postgres@127.0.0.1:5432/postgres}
  read -r host port < <(url_host_port "$url" 5432)
  answers "$host" "$port" && return 0
  if [ "$host" != 127.0.0.1 ]; then
    echo "error: PostgreSQL at $host:$port does not answer" >&2
    return 1
  fi
  local fresh=no
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-contrib
    fresh=yes
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ "$fresh" = yes ]; then
    # A machine we set up ourselves: trust local TCP connections, as the default URLs expect.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  echo "==> starting PostgreSQL $version"
  # The package may have started the cluster already; reload then picks up the trust lines.
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
  wait_for PostgreSQL "$host" "$port"
}

ensure_redis() {
  local url=${1:-redis://127.0.0.1:6379}
  read -r host port < <(url_host_port "$url" 6379)
  answers "$host" "$port" && return 0
  if [ "$host" != 127.0.0.1 ]; then
    echo "error: Redis at $host:$port does not answer" >&2
    return 1
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  echo "==> starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/fieldflow.log
  wait_for Redis "$host" "$port"
}

# ensure_moto URL: moto's S3-compatible server for the tests of the S3 storage backend, installed
# from PyPI and started in the background (it keeps its buckets in memory only).
ensure_moto() {
  local url=${1:-http://127.0.0.1:5005}
  read -r host port < <(url_host_port "$url" 80)
  answers "$host" "$port" && return 0
  if [ "$host" != 127.0.0.1 ]; then
    echo "error: the S3 test server at $host:$port does not answer" >&2
    return 1
  fi
  if ! command -v moto_server >/dev/null; then
    echo "==> installing moto (an S3-compatible test server) from PyPI"
    python3 -m pip install --quiet 'moto[server]'
  fi
  echo "==> starting moto on $host:$port"
  local log=${TMPDIR:-/tmp}/fieldflow-moto.log
  # Its own session, so it outlives this script like the Redis started above.
  setsid moto_server -H "$host" -p "$port" >"$log" 2>&1 </dev/null &
  wait_for moto "$host" "$port"
}

ensure_wasm_target() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
}
