#!/usr/bin/env bash
# One run of make certify / make certify-baselines, so that the Makefile can
# run several at once (xargs -P). Usage:
#
#   build/certify-run.sh OUT TARGET PROFILE
#
# TARGET is a folder under targets/ (e.g. bms-mca-resource, express-jwt/hardened)
# or one of the built-in references: reference, reference-web. The folder has
# certify.args and baseline-<profile>.txt, and either server.js (started with
# node) or certify.cmd (the command line, e.g. a Go target's binary). With
# CERTIFY_MODE=baseline the run rewrites the baseline instead of checking it.
# The run's log is OUT/<name>-<profile>.log (name: TARGET with / as -); what
# it prints (its summary, or a failing run's tail) comes out in one piece.
set -uo pipefail
out=$1 t=$2 p=$3
mode=${CERTIFY_MODE:-check}
bin=${MCASPEC:-bin/mcaspec}
name=${t//\//-}
log=$out/$name-$p.log
args=(conformance --az-listen 127.0.0.1:0 --name "$name" --profile "$p" --out "$out/$name-$p")

case $t in
reference)
  [ "$p" = mca ] && args+=(--baseline reference/baseline-mca.txt)
  [ "$mode" = baseline ] && { [ "$p" = mca ] || exit 0; args=("${args[@]/--baseline/--write-baseline}"); }
  ;;
reference-web)
  [ "$mode" = baseline ] && exit 0
  args+=(--family web)
  ;;
*)
  d=targets/$t
  if [ -f "$d/server.js" ]; then
    cmd="node $d/server.js"
  elif [ -f "$d/certify.cmd" ]; then
    cmd=$(<"$d/certify.cmd")
  else
    echo "== certify $t ($p): $d has neither server.js nor certify.cmd" >&2
    exit 1
  fi
  # The installed versions for the report: the nearest folder with a package.json.
  v=$d
  while [ "$v" != targets ] && [ ! -f "$v/package.json" ] && [ ! -f "$v/go.sum" ]; do v=$(dirname "$v"); done
  if [ -f "$v/package.json" ]; then
    args+=(--npm-versions "$v")
  elif [ -f "$v/go.sum" ]; then # a Go target: its module's direct requirements
    args+=(--versions "$(cd "$v" && go list -m -f '{{if and (not .Main) (not .Indirect) (not .Replace)}}{{.Path}}={{.Version}}{{end}}' all | grep . | paste -sd, -)")
  fi
  # shellcheck disable=SC2046 # certify.args is a list of flags
  args+=(--target-cmd "$cmd" $(<"$d/certify.args"))
  if [ "$mode" = baseline ]; then
    args+=(--write-baseline "$d/baseline-$p.txt")
  else
    args+=(--baseline "$d/baseline-$p.txt")
  fi
  ;;
esac

mkdir -p "$out"
start=$SECONDS
if "$bin" "${args[@]}" >"$log" 2>&1; then
  msg="== certify $t ($p): ok in $((SECONDS - start)) s
$(grep -A20 '^mcaspec conformance:' "$log" | grep -v '^  [A-Z][A-Z][A-Z] ')"
  rc=0
else
  rc=$?
  if [ "$mode" = baseline ] && [ "$rc" = 1 ]; then # a baseline run records failures
    rc=0
    msg="== baseline $t ($p) in $((SECONDS - start)) s: $(tail -1 "$log")"
  else
    msg="== certify $t ($p): exit $rc in $((SECONDS - start)) s (log: $log)
$(tail -25 "$log")"
  fi
fi
printf '%s\n' "$msg"
exit "$rc"
