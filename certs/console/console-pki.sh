#!/bin/sh
# The staff console's small PKI, with the openssl CLI only (docs/operations.md,
# "Console certificates"). Everything lives in one directory, PKI_DIR, kept on
# the supervisor's machine; only console-ca.pem, console-ca.crl, server.pem and
# server.key go to the console node.
#
#   console-pki.sh init PKI_DIR                      console CA (EC P-256, 10 years) + empty CRL
#   console-pki.sh server PKI_DIR DNS_NAME [IP ...]  the node's server certificate (2 years)
#   console-pki.sh operator PKI_DIR CN [--supervisor] [--days N] [--password P]
#                  [--not-before YYYYMMDDHHMMSSZ --not-after YYYYMMDDHHMMSSZ]
#                                                    an operator certificate + PKCS#12 for the browser
#   console-pki.sh revoke PKI_DIR CN                 revoke CN's newest certificate, write a new CRL
#   console-pki.sh crl PKI_DIR                       write a new CRL (it is valid 30 days: renew monthly)
#
# Output: PKI_DIR/console-ca.{key,pem,crl}, PKI_DIR/server.{key,pem},
# PKI_DIR/operators/CN.{key,pem,p12}. The PKCS#12 password defaults to the CN
# (tell the operator to change it on import); keys are mode 0600.
set -eu
umask 077

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "error: $*" >&2; exit 1; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2

cnf() {
  cat > "$dir/ca.cnf" <<CNF
[ ca ]
default_ca = console_ca
[ console_ca ]
dir               = $dir
database          = \$dir/index.txt
new_certs_dir     = \$dir/issued
serial            = \$dir/serial
crlnumber         = \$dir/crlnumber
certificate       = \$dir/console-ca.pem
private_key       = \$dir/console-ca.key
default_md        = sha256
default_crl_days  = 30
policy            = any
unique_subject    = no
copy_extensions   = none
[ any ]
commonName             = supplied
organizationalUnitName = optional
organizationName       = optional
[ operator ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \$ENV::KB_SAN
[ crl ]
authorityKeyIdentifier = keyid
CNF
}

need_ca() { [ -f "$dir/console-ca.key" ] || die "$dir: no console CA (run: $0 init $dir)"; cnf; }

write_crl() {
  KB_SAN=DNS:x openssl ca -batch -config "$dir/ca.cnf" -gencrl -crlexts crl -out "$dir/console-ca.crl" 2>/dev/null
  echo "$dir/console-ca.crl"
}

case "$cmd" in
  init)
    [ $# -eq 0 ] || usage
    [ ! -e "$dir/console-ca.key" ] || die "$dir already holds a console CA"
    mkdir -p "$dir/issued" "$dir/operators"
    : > "$dir/index.txt"
    echo 1000 > "$dir/crlnumber"
    openssl rand -hex 16 > "$dir/serial"
    cnf
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/console-ca.key"
    openssl req -new -x509 -key "$dir/console-ca.key" -sha256 -days 3650 \
      -subj "/O=Kartu Bahagia/CN=Kartu Bahagia Console CA" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/console-ca.pem"
    chmod 0644 "$dir/console-ca.pem"
    write_crl
    echo "$dir/console-ca.pem"
    ;;
  server)
    [ $# -ge 1 ] || usage
    need_ca
    san="DNS:$1"; shift
    for ip in "$@"; do san="$san,IP:$ip"; done
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server.key"
    openssl req -new -key "$dir/server.key" -subj "/O=Kartu Bahagia/CN=console" -out "$dir/server.csr"
    KB_SAN=$san openssl ca -batch -notext -config "$dir/ca.cnf" -extensions server -days 730 \
      -in "$dir/server.csr" -out "$dir/server.pem" 2>/dev/null
    rm -f "$dir/server.csr"
    chmod 0644 "$dir/server.pem"
    echo "$dir/server.pem"
    ;;
  operator)
    [ $# -ge 1 ] || usage
    need_ca
    cn=$1; shift
    case "$cn" in *[!A-Za-z0-9._-]*|"") die "CN may hold only A-Z a-z 0-9 . _ -" ;; esac
    ou="" days=365 password=$cn not_before="" not_after=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --supervisor) ou="/OU=supervisor" ;;
        --days) days=$2; shift ;;
        --password) password=$2; shift ;;
        --not-before) not_before=$2; shift ;;
        --not-after) not_after=$2; shift ;;
        *) usage ;;
      esac
      shift
    done
    out="$dir/operators/$cn"
    openssl ecparam -name prime256v1 -genkey -noout -out "$out.key"
    openssl req -new -key "$out.key" -subj "/O=Kartu Bahagia$ou/CN=$cn" -out "$out.csr"
    if [ -n "$not_after" ]; then
      validity="-startdate ${not_before:-20200101000000Z} -enddate $not_after"
    else
      validity="-days $days"
    fi
    # shellcheck disable=SC2086
    KB_SAN=DNS:x openssl ca -batch -notext -config "$dir/ca.cnf" -extensions operator $validity \
      -in "$out.csr" -out "$out.pem" 2>/dev/null
    rm -f "$out.csr"
    openssl pkcs12 -export -inkey "$out.key" -in "$out.pem" -certfile "$dir/console-ca.pem" \
      -name "$cn" -passout "pass:$password" -out "$out.p12"
    echo "$out.p12"
    ;;
  revoke)
    [ $# -eq 1 ] || usage
    need_ca
    [ -f "$dir/operators/$1.pem" ] || die "no certificate for '$1' in $dir/operators"
    KB_SAN=DNS:x openssl ca -batch -config "$dir/ca.cnf" -revoke "$dir/operators/$1.pem" 2>/dev/null
    write_crl
    ;;
  crl)
    need_ca
    write_crl
    ;;
  *) usage ;;
esac
