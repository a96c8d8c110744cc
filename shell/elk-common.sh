# shellcheck shell=bash
# Functions elk-stack's container scripts share to read secrets from files. Sourced, never run. Secrets reach
# these scripts only as files (mode 0600 and owned by the service's user on Docker, a read-only Secret volume on
# Kubernetes): never in an environment variable or on a command line, where `docker inspect`, `ps` and
# /proc/<pid>/environ would show them. Only bash builtins (printf, test) ever hold a secret as an argument.

# elk_check_secret_file FILE [ascii]: fails unless FILE is readable, not empty, and free of NUL, CR and LF (a
# secret is one line of text: a line break would end it early in a keystore, or start a new directive in any
# line-based format). With `ascii`, anything outside printable ASCII is refused too (keystores that take ASCII
# only, see keystore-start.sh).
elk_check_secret_file() {
  local file=$1 size
  if [ ! -r "$file" ]; then
    echo "${ELK_TAG:-elk}: cannot read the secret file $file" >&2
    return 1
  fi
  size=$(wc -c < "$file")
  if [ "$size" -eq 0 ]; then
    echo "${ELK_TAG:-elk}: the secret file $file is empty" >&2
    return 1
  fi
  if [ "$(tr -d '\000\r\n' < "$file" | wc -c)" -ne "$size" ]; then
    echo "${ELK_TAG:-elk}: the secret in $file holds a NUL, CR or LF byte: refused, a secret must be one line" >&2
    return 1
  fi
  if [ "${2:-}" = ascii ] && [ "$(LC_ALL=C tr -d ' -~' < "$file" | wc -c)" -ne 0 ]; then
    echo "${ELK_TAG:-elk}: the secret in $file holds characters outside printable ASCII, which the keystore refuses" >&2
    return 1
  fi
}

# elk_read_secret VAR FILE: checks FILE (see elk_check_secret_file) and sets the variable named VAR to its content.
elk_read_secret() {
  elk_check_secret_file "$2" || return 1
  printf -v "$1" '%s' "$(cat -- "$2")"
}

# elk_forget_secret_file FILE: removes FILE once read, where the file system lets us (a Docker step's upload in
# /tmp); a read-only Kubernetes Secret volume keeps it, and goes away with the pod.
elk_forget_secret_file() {
  rm -f -- "$1" 2>/dev/null || true
}

# elk_json_string VALUE: prints VALUE as a JSON string. Backslash, double quote and tab are escaped; any other
# control character is refused rather than passed on into a request body.
elk_json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  if [[ $s == *[[:cntrl:]]* ]]; then
    echo "${ELK_TAG:-elk}: a secret holds a control character: refused" >&2
    return 1
  fi
  printf '"%s"' "$s"
}

# elk_basic_auth_header USER PASSWORD FILE: writes an `Authorization: Basic` header into FILE for curl's
# `--header @FILE`. The password never enters a curl config line: the header holds only its base64 form, which
# has no quote, space, backslash or line break to escape from.
elk_basic_auth_header() {
  local token
  token=$(printf '%s:%s' "$1" "$2" | base64 | tr -d '\n')
  printf 'Authorization: Basic %s\n' "$token" > "$3"
}
