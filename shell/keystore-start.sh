#!/bin/bash
# Entrypoint of elk-stack's Elasticsearch, Kibana and Logstash containers: moves the service's secrets from files
# into its keystore, then runs the image's own entrypoint, which starts the service with no secret in its
# environment or on its command line.
#
# Usage: keystore-start.sh elasticsearch|kibana|logstash COMMAND [ARG...]
# Reads (none of them secret): ELK_CONFIDENTIAL, the names of the secrets, space-separated, each a keystore entry (a
# setting name for Elasticsearch and Kibana, a ${NAME} the pipelines read for Logstash); ELK_CONFIDENTIAL_DIR, where
# their files elk-secret.NAME are.
#
# Why not the images' own routes: the Elasticsearch image's ELASTIC_PASSWORD_FILE is read by
# elastic/elasticsearch distribution/src/bin/elasticsearch-env-from-file, which exports the password as
# ELASTIC_PASSWORD into the environment Elasticsearch then runs with (sourced by
# distribution/docker/src/docker/bin/docker-entrypoint.sh); Kibana and Logstash read `${VAR}` in their settings and
# pipelines from the environment unless the keystore has the name.
set -euo pipefail
ELK_TAG=elk-keystore
# shellcheck source-path=SCRIPTDIR source=elk-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/elk-common.sh"

kind=${1:?usage: keystore-start.sh elasticsearch|kibana|logstash COMMAND [ARG...]}
shift
if [ "$#" -eq 0 ]; then echo "$ELK_TAG: no command to run after the keystore" >&2; exit 1; fi
: "${ELK_CONFIDENTIAL:?ELK_CONFIDENTIAL must be set}"
: "${ELK_CONFIDENTIAL_DIR:?ELK_CONFIDENTIAL_DIR must be set}"

# logstash_keystore EXPECTED ARG...: runs logstash-keystore, which reports a failure as an "ERROR: ..." line on
# stdout and exits 0 all the same (elastic/logstash logstash-core/src/main/java/org/logstash/secret/cli/
# SecretStoreCli.java: `command` returns after writing the line). So the line it prints after doing the work must be
# there and no ERROR line may be; otherwise the start stops with the tool's own output. That output holds prompts
# and messages, never a value (the tool reads values without echoing them and prints only their names).
logstash_keystore() {
  local expected=$1 out status=0
  shift
  out=$(logstash-keystore "$@" 2>&1) || status=$?
  if [ "$status" -ne 0 ] || [[ $out != *"$expected"* ]] || [[ $out == *"ERROR:"* ]]; then
    printf '%s: logstash-keystore %s failed (exit code %s, expected "%s"); its output:\n%s\n' "$ELK_TAG" "$1" "$status" "$expected" "$out" >&2
    exit 1
  fi
}

case "$kind" in
  # `add --force` creates the keystore when there is none (elastic/elasticsearch distribution/tools/keystore-cli/
  # src/main/java/org/elasticsearch/cli/keystore/AddStringKeyStoreCommand.java); it exits non-zero on an error.
  elasticsearch) ;;
  # A fresh keystore on every start, so a setting dropped from the stack does not linger. `create` asks before
  # overwriting (elastic/kibana src/cli_keystore/create.js); the answer comes on stdin. No --silent anywhere: the
  # tool's logger drops errors too when silent (src/cli/logger.js), and its commands exit 0 after one.
  kibana) printf 'y\n' | kibana-keystore create ;;
  # `create` asks before overwriting and again before going without a keystore password (SecretStoreCli.java).
  logstash) printf 'y\ny\n' | logstash_keystore "Created Logstash keystore" create ;;
  *) echo "$ELK_TAG: unknown service '$kind'" >&2; exit 1 ;;
esac

for name in $ELK_CONFIDENTIAL; do
  file=$ELK_CONFIDENTIAL_DIR/elk-secret.$name
  case "$kind" in
    elasticsearch)
      # The keystore takes ASCII only (KeyStoreWrapper.setString); refused here with a message rather than there.
      elk_check_secret_file "$file" ascii
      elasticsearch-keystore add --stdin --force "$name" < "$file" ;;
    kibana)
      elk_check_secret_file "$file"
      # `add` trims the value and reads it as JSON when it parses as JSON (elastic/kibana src/cli_keystore/add.js):
      # a value that would change on the way is refused rather than stored changed.
      value=$(cat -- "$file")
      if [[ $value =~ ^[[:space:]] || $value =~ [[:space:]]$ || $value =~ ^[\"\[\{] || $value =~ ^(true|false|null)$ || $value =~ ^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$ ]]; then
        echo "$ELK_TAG: the value of $name would be changed by kibana-keystore (surrounding spaces, or valid JSON): refused" >&2
        exit 1
      fi
      unset value
      kibana-keystore add --stdin --force "$name" < "$file" ;;
    logstash)
      # ASCII only, and an empty or refused value makes `add` ask again (SecretStoreCli.java).
      elk_check_secret_file "$file" ascii
      # `add` reads one line.
      { cat -- "$file"; printf '\n'; } | logstash_keystore "Added '$name' to the Logstash keystore." add "$name" ;;
  esac
done

if [ "$kind" = kibana ]; then
  # kibana-keystore's `add` logs an error and exits 0 (src/cli_keystore/add.js): the keystore's own list must name
  # every setting (src/cli_keystore/list.js prints one name a line).
  listed=$(kibana-keystore list < /dev/null)
  for name in $ELK_CONFIDENTIAL; do
    if ! grep -qxF -- "$name" <<< "$listed"; then
      echo "$ELK_TAG: kibana-keystore did not store $name (see its error above); Kibana would start without it" >&2
      exit 1
    fi
  done
fi

exec "$@"
