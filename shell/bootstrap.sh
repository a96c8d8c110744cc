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
#   ELK_BACKOFF_MAX_SECONDS  the longest pause between two answers of 429 (default 60)
#
# Besides each step's own retry codes, every request is sent again, within the deadline, on
#   401: what Elasticsearch answers for any password while its security index is not available yet, after a start
#        or restart (x-pack/plugin/security/.../authc/esnative/ReservedRealm.java fails the authentication when
#        NativeUsersStore cannot read the user); a wrong password gives the same answer, and fails at the deadline;
#   429: a full thread pool queue (es_rejected_execution_exception), with a pause that doubles each time.
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
backoff_max=${ELK_BACKOFF_MAX_SECONDS:-60}

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

# pause_for SECONDS: how long to sleep before the next try, so that it never sleeps past the deadline; fails (1)
# when the deadline is already reached.
pause_for() {
  local left=$((deadline - SECONDS))
  if [ "$left" -le 0 ]; then return 1; fi
  if [ "$1" -lt "$left" ]; then echo "$1"; else echo "$left"; fi
}

backoff=$interval
for ((i = 1; ; i++)); do
  code=$(es GET / "$work/empty")
  if [ "$code" = 200 ]; then break; fi
  if [ "$i" -ge "$attempts" ] || [ "$SECONDS" -ge "$deadline" ]; then
    if [ "$code" = 401 ]; then
      echo "$ELK_TAG: Elasticsearch refused the elastic password (HTTP 401) after $i attempts: a wrong password, or its security index never became available" >&2
    else
      echo "$ELK_TAG: Elasticsearch at $ELK_ES_URL not reachable after $i attempts (last HTTP $code)" >&2
    fi
    exit 1
  fi
  wait_s=$interval
  case "$code" in
    401) why="HTTP 401: the security index may still be starting" ;;
    429) why="HTTP 429: too many requests"; wait_s=$backoff; backoff=$((backoff * 2 > backoff_max ? backoff_max : backoff * 2)) ;;
    *) why="HTTP $code" ;;
  esac
  wait_s=$(pause_for "$wait_s") || wait_s=0
  echo "$ELK_TAG: waiting for Elasticsearch ($why), attempt $i of $attempts"
  sleep "$wait_s"
done

# fill_placeholders TEMPLATE: prints TEMPLATE with each placeholder @@NAME@@ replaced by the secret NAME as a JSON
# string. One pass from left to right over the template: a secret's own text is never searched again, so a secret
# that holds "@@other@@" stays as it is instead of taking in the other secret. `elastic` is never put in a body.
fill_placeholders() {
  local rest=$1 out="" name json
  while [[ $rest == *@@* ]]; do
    out+=${rest%%@@*}
    rest=${rest#*@@}
    if [[ $rest =~ ^([a-z_]+)@@ ]]; then
      name=${BASH_REMATCH[1]}
      if [ "$name" = elastic ] || [ -z "${secrets[$name]+set}" ]; then
        echo "$ELK_TAG: a request body names the secret '$name', which is not given to it" >&2
        return 1
      fi
      json=$(elk_json_string "${secrets[$name]}") || return 1
      out+=$json
      rest=${rest:$((${#name} + 2))}
    else
      out+=@@
    fi
  done
  printf '%s' "$out$rest"
}

run_step() { # run_step METHOD PATH OK_CODES RETRY_CODES BODY_FILE DESCRIPTION
  local body="" code again ok r wait_s step_backoff=$interval
  if [ "$5" != - ]; then
    body=$(fill_placeholders "$(cat -- "$(dirname "$ELK_PLAN")/$5")") || exit 1
  fi
  printf '%s' "$body" > "$work/body"
  while :; do
    code=$(es "$1" "$2" "$work/body")
    for ok in $3; do
      if [ "$code" = "$ok" ]; then echo "$ELK_TAG: ok ($code): $6"; return 0; fi
    done
    again=no
    wait_s=$interval
    case "$code" in
      401) again=yes ;;
      429) again=yes; wait_s=$step_backoff; step_backoff=$((step_backoff * 2 > backoff_max ? backoff_max : step_backoff * 2)) ;;
    esac
    if [ "$4" != - ]; then
      for r in $4; do if [ "$code" = "$r" ]; then again=yes; fi; done
    fi
    if [ "$again" = no ]; then break; fi
    if ! wait_s=$(pause_for "$wait_s"); then
      echo "$ELK_TAG: still HTTP $code after $SECONDS s, past the deadline of $deadline s" >&2
      break
    fi
    echo "$ELK_TAG: not yet (HTTP $code): $6; again in $wait_s s"
    sleep "$wait_s"
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
