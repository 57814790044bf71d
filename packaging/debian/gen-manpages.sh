#!/bin/sh
# Writes kartu-bahagiad(8) and kbctl(1) from the built binaries' --help, so the
# man pages never drift from the programs, with a hand-written description,
# files and examples around it. Usage: gen-manpages.sh BIN_DIR OUT_DIR
# (BIN_DIR holds kartu-bahagiad/kartu-bahagiad and kbctl/kbctl).
set -eu
bin=$1
out=$2
mkdir -p "$out"
version=$(sed -n '1s/.*(\([^-)]*\).*/\1/p' "$(dirname "$0")/changelog")
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%d)

# Help text as a roff literal block: escape backslashes, keep leading dots and
# quotes from being read as requests.
literal() {
  printf '.PP\n.RS 2\n.nf\n'
  sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/-/\\-/g'
  printf '.fi\n.RE\n'
}

daemon="$bin/kartu-bahagiad/kartu-bahagiad"
{
  cat <<ROFF
.TH KARTU-BAHAGIAD 8 "$date" "kartu-bahagia $version" "System Administration"
.SH NAME
kartu-bahagiad \- Kartu Bahagia kiosk daemon
.SH SYNOPSIS
.B kartu-bahagiad
.B \-\-config
.I FILE
.br
.B kartu-bahagiad
.B \-\-check\-config
.I FILE
.br
.B kartu-bahagiad \-\-demo
.RI [ options ]
.SH DESCRIPTION
.B kartu-bahagiad
runs a Kartu Bahagia kiosk: it reads cards on the NFC reader, checks that
each card is genuine, looks the holder up in the signed local cache and
serves the kiosk screen, a JSON API, \fI/healthz\fR and \fI/metrics\fR on a
loopback address.
It is started by \fBkartu-bahagiad.service\fR as the system account
\fBkartu-bahagia\fR and logs one line per tap with the outcome only (no
names, card numbers or UIDs).
.PP
\fB\-\-check\-config\fR reads a configuration as the daemon would at start
and exits 0 when it is valid; a bad line is reported as
\fIfile\fR:\fIline\fR: \fIkey\fR: \fIreason\fR. The unit runs it before every start.
.SH OPTIONS AND CONFIGURATION KEYS
The text of \fBkartu-bahagiad \-\-help\fR:
ROFF
  "$daemon" --help | literal
  cat <<'ROFF'
.SH FILES
.TP
.I /etc/kartu-bahagia/kiosk.conf
the configuration (a conffile).
.TP
.I /etc/kartu-bahagia/root.json
the city's trust root from the key ceremony; never shipped by the package.
.TP
.I /var/lib/kartu-bahagia/cache.db
the verified cache that \fBkbctl import\fR writes (run it as the
\fBkartu-bahagia\fR account, see \fBkbctl\fR(1)); \fIcache.db.prev\fR is the
state it replaced.
.SH EXIT STATUS
0 on a clean stop or a valid configuration; non-zero with
\fBerror:\fR \fICODE\fR\fB:\fR \fIreason\fR on standard error otherwise.
.SH SEE ALSO
.BR kbctl (1),
.BR systemctl (1),
.BR journalctl (1);
/usr/share/doc/kartu-bahagia/
ROFF
} >"$out/kartu-bahagiad.8"

kbctl="$bin/kbctl/kbctl"
{
  cat <<ROFF
.TH KBCTL 1 "$date" "kartu-bahagia $version" "User Commands"
.SH NAME
kbctl \- keys, trust root, signed membership bundles and cards for Kartu Bahagia
.SH SYNOPSIS
.B kbctl
.I COMMAND
.RI [ OPTIONS ]
.br
.B kbctl
.I COMMAND
.B \-\-help
.SH DESCRIPTION
.B kbctl
is the command line of the city's publisher and of the kiosk operator: it
makes keys and the trust root at the key ceremony, turns the roster into
signed snapshot and delta bundles, verifies and imports them on a kiosk,
looks a card up as the kiosk would, and writes cards.
ROFF
  "$kbctl" --help | literal
  "$kbctl" --help | sed -n 's/^  \([a-z][a-z]*\( [a-z][a-z]*\)\?\)  .*/\1/p' | while read -r cmd; do
    printf '.SS "kbctl %s"\n' "$cmd"
    # shellcheck disable=SC2086  # the command is one or two words
    "$kbctl" $cmd --help | literal
  done
  cat <<'ROFF'
.SH EXAMPLES
Import a snapshot on a kiosk, as the daemon's account so that the daemon can
read what was written:
.PP
.RS 2
.nf
runuser \-u kartu\-bahagia \-\- kbctl import \-\-db /var/lib/kartu\-bahagia/cache.db \e
    \-\-root /etc/kartu\-bahagia/root.json /media/usb/snapshot\-42.kbs
.fi
.RE
.SH EXIT STATUS
0 on success; 2 for a usage error; 1 for any other error, printed as
\fBerror:\fR \fICODE\fR\fB:\fR \fIreason\fR on standard error.
.SH SEE ALSO
.BR kartu-bahagiad (8);
/usr/share/doc/kartu-bahagia/
ROFF
} >"$out/kbctl.1"
