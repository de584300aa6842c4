#!/usr/bin/env bash
# Builds the test PKI for ike_auth_unit_tests with the openssl CLI, in the
# directory given as $1:
#   root (RSA) -> intermediate (RSA) -> leaves rsa, p256, p384, p521, expired, revoked
#   other-root -> stranger (a leaf from a CA nobody trusts)
#   root.crl (empty), intermediate.crl (revokes the "revoked" leaf)
#   rsa-pss-alg.der: the signatureAlgorithm OpenSSL writes for an RSASSA-PSS
#   SHA-256 certificate signature (an independent PSS AlgorithmIdentifier).
set -euo pipefail
dir=${1:?usage: make_test_pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
export OPENSSL_CONF=/dev/null

ca_config() {  # $1 = CA name
  mkdir -p "$1.db"
  : > "$1.db/index.txt"
  echo 1000 > "$1.db/serial"
  echo 01 > "$1.db/crlnumber"
  cat > "$1.cnf" <<CNF
[ ca ]
default_ca = this_ca
[ this_ca ]
dir = $1.db
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $1.pem
private_key = $1.key
default_md = sha256
default_crl_days = 3650
policy = anything
unique_subject = no
email_in_dn = yes
[ anything ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ req ]
distinguished_name = req_dn
[ req_dn ]
CNF
}

issue() {  # $1 = CA, $2 = name, $3 = subject, $4 = extensions section text, [$5 $6 start end]
  printf '[ leaf ]\n%s\n' "$4" > "$2.ext"
  openssl req -new -key "$2.key" -subj "$3" -out "$2.csr" 2>/dev/null
  local dates=(-days 3650)
  if [ $# -ge 6 ]; then dates=(-startdate "$5" -enddate "$6"); fi
  openssl ca -batch -config "$1.cnf" -in "$2.csr" -out "$2.pem" -notext \
    -extfile "$2.ext" -extensions leaf "${dates[@]}" 2>/dev/null
}

leaf_ext() {  # $1 = subjectAltName value
  printf 'basicConstraints = CA:false\nkeyUsage = critical, digitalSignature\n'
  printf 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n'
  printf 'subjectAltName = %s\n' "$1"
}

# Roots.
for root in root other-root; do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $root.key 2>/dev/null
  ca_config $root
  openssl req -new -x509 -key $root.key -subj "/C=CH/O=Traverse/CN=Traverse Test $root" \
    -days 7300 -config $root.cnf -extensions v3_root -out $root.pem 2>/dev/null
done

# Intermediate, signed by root.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out intermediate.key 2>/dev/null
ca_config intermediate
openssl req -new -key intermediate.key -subj "/C=CH/O=Traverse/CN=Traverse Test Intermediate" \
  -out intermediate.csr 2>/dev/null
openssl ca -batch -config root.cnf -in intermediate.csr -out intermediate.pem -notext \
  -extensions v3_ca -days 7000 2>/dev/null

# Leaf keys.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.key 2>/dev/null
for name in expired revoked stranger; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $name.key 2>/dev/null
done

issue intermediate rsa "/C=CH/O=Traverse/CN=gw.traverse.lab" \
  "$(leaf_ext 'DNS:gw.traverse.lab, email:admin@traverse.lab, IP:192.0.2.1, IP:2001:db8::1')"
issue intermediate p256 "/C=CH/O=Traverse/CN=ec256.traverse.lab" \
  "$(leaf_ext 'DNS:ec256.traverse.lab')"
issue intermediate p384 "/C=CH/O=Traverse/CN=ec384.traverse.lab" \
  "$(leaf_ext 'DNS:ec384.traverse.lab, email:alice@traverse.lab')"
issue intermediate p521 "/C=CH/O=Traverse/CN=ec521.traverse.lab" \
  "$(leaf_ext 'DNS:ec521.traverse.lab')"
issue intermediate expired "/C=CH/O=Traverse/CN=expired.traverse.lab" \
  "$(leaf_ext 'DNS:expired.traverse.lab')" 20200101000000Z 20210101000000Z
issue intermediate revoked "/C=CH/O=Traverse/CN=revoked.traverse.lab" \
  "$(leaf_ext 'DNS:revoked.traverse.lab')"
issue other-root stranger "/C=CH/O=Traverse/CN=gw.traverse.lab" \
  "$(leaf_ext 'DNS:gw.traverse.lab')"

# Revocation and CRLs.
openssl ca -config intermediate.cnf -revoke revoked.pem -crl_reason keyCompromise 2>/dev/null
openssl ca -config intermediate.cnf -gencrl -out intermediate.crl 2>/dev/null
openssl ca -config root.cnf -gencrl -out root.crl 2>/dev/null
openssl crl -in intermediate.crl -outform DER -out intermediate.crl.der

# Leaf-then-intermediate chain file, and DER copies.
cat rsa.pem intermediate.pem > rsa-chain.pem
for name in root intermediate rsa p256 p384 p521 expired revoked stranger; do
  openssl x509 -in $name.pem -outform DER -out $name.der
done

# An RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) signature algorithm as
# OpenSSL encodes it in a certificate.
openssl req -new -x509 -key rsa.key -subj "/CN=pss" -days 1 -sha256 \
  -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 \
  -out pss-cert.pem 2>/dev/null
openssl x509 -in pss-cert.pem -outform DER -out pss-cert.der
# Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }:
# the second element of the outer SEQUENCE, copied whole (header and contents).
offset=$(openssl asn1parse -inform DER -in pss-cert.der | awk -F: '/d=1/ {print $1+0}' | sed -n 2p)
python3 - pss-cert.der "$offset" rsa-pss-alg.der <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
off = int(sys.argv[2])
length = data[off + 1]
if length & 0x80:
    n = length & 0x7f
    length = int.from_bytes(data[off + 2:off + 2 + n], 'big')
    header = 2 + n
else:
    header = 2
open(sys.argv[3], 'wb').write(data[off:off + header + length])
PY
echo ok
