#!/bin/bash
# elk-stack's Kibana set-up step: imports Kibana's saved objects (data views, dashboard, saved search).
# Idempotent: fixed ids and overwrite=true, so every run leaves the same objects.
#
# Reads (none of them secret):
#   ELK_KIBANA_URL  Kibana's URL; ELK_CA the CA file that vouches for its certificate (never -k)
#   ELK_PLAN        the requests, one a line, tab-separated: METHOD PATH KIND PAYLOAD OK_CODES MUST_CONTAIN DESCRIPTION;
#                   KIND `file` uploads PAYLOAD (a path) as the form field `file`, KIND `json` sends the file PAYLOAD
#                   (beside the plan) as a JSON body; MUST_CONTAIN is text the response must hold, `-` for none
#   ELK_CONFIDENTIAL_DIR  where the secret file elk-secret.elastic (the elastic password) is (default /tmp); it is
#                   removed once read
#   ELK_WAIT_ATTEMPTS, ELK_WAIT_INTERVAL_SECONDS  how long to wait for Kibana
set -euo pipefail
ELK_TAG=elk-kibana-setup
# shellcheck source-path=SCRIPTDIR source=elk-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/elk-common.sh"

: "${ELK_KIBANA_URL:?ELK_KIBANA_URL must be set}"
: "${ELK_CA:?ELK_CA must be set}"
: "${ELK_PLAN:?ELK_PLAN must be set}"
secret_dir=${ELK_CONFIDENTIAL_DIR:-/tmp}
attempts=${ELK_WAIT_ATTEMPTS:-60}
interval=${ELK_WAIT_INTERVAL_SECONDS:-5}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077

password=""
elk_read_secret password "$secret_dir/elk-secret.elastic"
elk_forget_secret_file "$secret_dir/elk-secret.elastic"
elk_basic_auth_header elastic "$password" "$work/auth"
unset password

kbn() { # kbn METHOD PATH KIND PAYLOAD -> HTTP status (000 without a response); body in $work/response
  local args=(--silent --show-error --max-time 120 --cacert "$ELK_CA" --header "@$work/auth"
    --header 'kbn-xsrf: elk-stack' --request "$1" --output "$work/response" --write-out '%{http_code}')
  case "$3" in
    file) args+=(--form "file=@$4") ;;
    json) args+=(--header 'Content-Type: application/json' --data-binary "@$(dirname "$ELK_PLAN")/$4") ;;
  esac
  rm -f "$work/response"
  local code
  code=$(curl "${args[@]}" "$ELK_KIBANA_URL$2") || true
  echo "${code:-000}"
}

# The overall level of the status API's answer (status.overall.level): core services and plugins have levels of
# their own, and one of them being "available" says nothing about Kibana as a whole. No jq in the image: bash
# regexes take the "overall" object, drop the objects nested in it (meta), then read its own "level".
overall_level() {
  local json overall re_overall='"overall":[{](([^{}]|[{][^{}]*[}])*)[}]' re_nested='[{][^{}]*[}]' re_level='"level":"([a-z_]+)"'
  json=$(tr -d '\n' < "$work/response" 2>/dev/null) || return 0
  [[ $json =~ $re_overall ]] || return 0
  overall=${BASH_REMATCH[1]}
  while [[ $overall =~ $re_nested ]]; do overall=${overall/"${BASH_REMATCH[0]}"/}; done
  if [[ $overall =~ $re_level ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# Healthy means the status API answers 200 with overall level "available": 503 while it waits for Elasticsearch,
# 200 with "degraded" while a service is still starting.
for ((i = 1; ; i++)); do
  code=$(kbn GET /api/status none '')
  level=$(overall_level)
  if [ "$code" = 200 ] && [ "$level" = available ]; then break; fi
  if [ "$code" = 401 ]; then echo "$ELK_TAG: Kibana refused the elastic password (HTTP 401)" >&2; exit 1; fi
  if [ "$i" -ge "$attempts" ]; then
    echo "$ELK_TAG: Kibana at $ELK_KIBANA_URL not available after $attempts attempts (last HTTP $code)" >&2
    exit 1
  fi
  echo "$ELK_TAG: waiting for Kibana (HTTP $code, overall level ${level:-unknown}), attempt $i of $attempts"
  sleep "$interval"
done

step() { # step METHOD PATH KIND PAYLOAD OK_CODES MUST_CONTAIN DESCRIPTION
  local code ok
  code=$(kbn "$1" "$2" "$3" "$4")
  for ok in $5; do
    if [ "$code" = "$ok" ] && { [ "$6" = - ] || grep -qF -- "$6" "$work/response"; }; then
      echo "$ELK_TAG: ok ($code): $7"
      return 0
    fi
  done
  echo "$ELK_TAG: FAILED ($code): $7: $1 $2" >&2
  if [ -s "$work/response" ]; then cat "$work/response" >&2; echo >&2; fi
  exit 1
}

# The plan on its own descriptor, so nothing a step runs can read from it.
while IFS=$'\t' read -r -u 3 method path kind payload ok must description; do
  [ -n "$method" ] || continue
  step "$method" "$path" "$kind" "$payload" "$ok" "$must" "$description"
done 3< "$ELK_PLAN"
echo "$ELK_TAG: done"
