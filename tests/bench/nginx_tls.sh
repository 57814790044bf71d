# nginx over TLS on loopback for the benchmarks' baselines (sourced by
# console_bench.sh and sync_bench.sh, and by the console sync test: one copy
# of the set-up).
#   nginx_tls_start DIR PORT ROOT CERT KEY [CLIENT_CA [CRL]]
# writes DIR/nginx.conf serving ROOT on 127.0.0.1:PORT with the server
# certificate CERT/KEY; with CLIENT_CA it requires a client certificate from
# that CA (and checks CRL when given): the console's mTLS setup. Starts nginx
# in the foreground of a background job, sets nginx_pid and returns once the
# port accepts connections. Keep-alive connections are never closed by count.
#   NGINX_WORKERS (default 1), NGINX_DEFAULT_TYPE (default application/octet-stream)
#   nginx_tls_stop    stops it (also safe when it never started).
nginx_pid=
nginx_tls_start() {
  local dir=$1 port=$2 root=$3 cert=$4 key=$5 ca=${6:-} crl=${7:-}
  local user="" client=""
  [ "$(id -u)" = 0 ] && user="user $(id -un);"
  if [ -n "$ca" ]; then
    client="ssl_client_certificate $ca; ssl_verify_client on;"
    [ -n "$crl" ] && client="$client ssl_crl $crl;"
  fi
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
$user
worker_processes ${NGINX_WORKERS:-1};
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  default_type ${NGINX_DEFAULT_TYPE:-application/octet-stream};
  sendfile on;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    $client
    root $root;
  }
}
EOF
  nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off;" &
  nginx_pid=$!
  local _
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "nginx did not start: $(tail -3 "$dir/error.log" 2>/dev/null)" >&2
  return 1
}
nginx_tls_stop() {
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
  fi
}
