#!/bin/sh
# usage: help_names_options.sh [--accepts] BINARY "COMMAND WORDS" OPTION...
# `BINARY COMMAND WORDS --help` exits 0, its (first) usage line is that command's own,
# and the text names every OPTION given (each command's own options, so the help of
# another command cannot pass). With --accepts, every option the text names is one the
# command accepts: given alone it fails for a missing value or argument, never as unknown.
set -u
accepts=no
if [ "$1" = --accepts ]; then accepts=yes; shift; fi
bin=$1; words=$2; shift 2
name=$(basename "$bin")
fail() { echo "FAIL: $name $words: $*" >&2; exit 1; }

# shellcheck disable=SC2086 # the command's words are meant to split
help=$("$bin" $words --help </dev/null) || fail "--help exited non-zero"
first=$(printf '%s\n' "$help" | grep -m 1 '^usage:')
case "$first" in
  "usage: $name $words"*) ;;
  *) fail "its usage line is not its own: $first" ;;
esac
for opt in "$@"; do
  printf '%s\n' "$help" | grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" || fail "help does not name $opt"
done
if [ $accepts = yes ]; then
  for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    [ "$opt" = --help ] && continue
    # shellcheck disable=SC2086
    err=$("$bin" $words "$opt" </dev/null 2>&1 >/dev/null) && fail "$opt alone succeeded"
    case "$err" in
      *"unknown option"* | *"unknown argument"*) fail "help names $opt, which it refuses: $err" ;;
    esac
  done
fi
echo "$name $words --help: names its options"
