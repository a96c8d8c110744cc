#!/bin/bash
# elk-stack's bootstrap step: sets up users, roles, lifecycle policies and index templates in Elasticsearch.
# Idempotent: every request creates or overwrites, so it runs again safely on any `pulumi up`.
#
# Reads (none of them secret):
#   ELK_ES_URL     Elasticsearch's URL; ELK_CA the CA file that vouches for its certificate (never -k)
#   ELK_PLAN       the requests, one a line, tab-separated: METHOD PATH OK_CODES RETRY_CODES BODY_FILE DESCRIPTION,
#                  with `-` for no retry codes and no body; codes are space-separated
#   ELK_CONFIDENTIAL names of the secrets, space-separated: `elastic` is the password it logs in with; a body holds
#                  @@NAME@@ where the secret NAME goes (as a JSON string)
#   ELK_CONFIDENTIAL_DIR  where the secret files elk-secret.NAME are (default /tmp); they are removed once read
#   ELK_WAIT_ATTEMPTS, ELK_WAIT_INTERVAL_SECONDS, ELK_DEADLINE_SECONDS  how long to wait for Elasticsearch
set -euo pipefail
# bash 5.2 would expand '&' in a pattern substitution's replacement; passwords may contain it.
shopt -u patsub_replacement 2>/dev/null || true
ELK_TAG=elk-bootstrap
# shellcheck source-path=SCRIPTDIR source=elk-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/elk-common.sh"

: "${ELK_ES_URL:?ELK_ES_URL must be set}"
: "${ELK_CA:?ELK_CA must be set}"
: "${ELK_PLAN:?ELK_PLAN must be set}"
: "${ELK_CONFIDENTIAL:?ELK_CONFIDENTIAL must be set}"
secret_dir=${ELK_CONFIDENTIAL_DIR:-/tmp}
attempts=${ELK_WAIT_ATTEMPTS:-60}
interval=${ELK_WAIT_INTERVAL_SECONDS:-5}
# Seconds since the start (bash's SECONDS) after which a "not yet" answer is a failure.
deadline=${ELK_DEADLINE_SECONDS:-540}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077

declare -A secrets=()
for name in $ELK_CONFIDENTIAL; do
  elk_read_secret "secrets[$name]" "$secret_dir/elk-secret.$name"
  elk_forget_secret_file "$secret_dir/elk-secret.$name"
done
if [ -z "${secrets[elastic]:-}" ]; then
  echo "$ELK_TAG: ELK_CONFIDENTIAL must name the secret 'elastic'" >&2
  exit 1
fi
elk_basic_auth_header elastic "${secrets[elastic]}" "$work/auth"

es() { # es METHOD PATH BODYFILE -> HTTP status on stdout (000 when no response), response in $work/response
  # --max-time outlasts the health request's own 60 s server-side wait.
  local args=(--silent --show-error --max-time 90 --cacert "$ELK_CA" --header "@$work/auth"
    --request "$1" --output "$work/response" --write-out '%{http_code}')
  if [ -s "$3" ]; then args+=(--header 'Content-Type: application/json' --data-binary "@$3"); fi
  rm -f "$work/response"
  local code
  # curl writes 000 itself when it gets no response; never append a second status.
  code=$(curl "${args[@]}" "$ELK_ES_URL$2") || true
  echo "${code:-000}"
}

: > "$work/empty"
for ((i = 1; ; i++)); do
  code=$(es GET / "$work/empty")
  case "$code" in
    200) break ;;
    401) echo "$ELK_TAG: Elasticsearch refused the elastic password (HTTP 401)" >&2; exit 1 ;;
  esac
  if [ "$i" -ge "$attempts" ]; then
    echo "$ELK_TAG: Elasticsearch at $ELK_ES_URL not reachable after $attempts attempts (last HTTP $code)" >&2
    exit 1
  fi
  echo "$ELK_TAG: waiting for Elasticsearch (HTTP $code), attempt $i of $attempts"
  sleep "$interval"
done

run_step() { # run_step METHOD PATH OK_CODES RETRY_CODES BODY_FILE DESCRIPTION
  local body="" name json code again ok r
  if [ "$5" != - ]; then
    body=$(cat -- "$(dirname "$ELK_PLAN")/$5")
    for name in "${!secrets[@]}"; do
      if [[ $body == *"@@$name@@"* ]]; then
        json=$(elk_json_string "${secrets[$name]}")
        body=${body//"@@$name@@"/"$json"}
      fi
    done
  fi
  printf '%s' "$body" > "$work/body"
  while :; do
    code=$(es "$1" "$2" "$work/body")
    for ok in $3; do
      if [ "$code" = "$ok" ]; then echo "$ELK_TAG: ok ($code): $6"; return 0; fi
    done
    again=no
    if [ "$4" != - ]; then
      for r in $4; do if [ "$code" = "$r" ]; then again=yes; fi; done
    fi
    if [ "$again" = no ]; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$ELK_TAG: still HTTP $code after $SECONDS s, past the deadline of $deadline s" >&2
      break
    fi
    echo "$ELK_TAG: not yet (HTTP $code): $6; again in $interval s"
    sleep "$interval"
  done
  echo "$ELK_TAG: FAILED ($code): $6: $1 $2" >&2
  # Only this step's response: a dropped connection leaves none.
  if [ -s "$work/response" ]; then cat "$work/response" >&2; echo >&2; fi
  exit 1
}

# The plan on its own descriptor, so nothing a step runs can read from it.
while IFS=$'\t' read -r -u 3 method path ok retry body description; do
  [ -n "$method" ] || continue
  run_step "$method" "$path" "$ok" "$retry" "$body" "$description"
done 3< "$ELK_PLAN"
echo "$ELK_TAG: done"
