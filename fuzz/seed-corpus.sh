#!/usr/bin/env bash
# Writes the seed corpus of each fuzz target into fuzz/corpus/<target>/seed-*, from the
# request bodies Parse Server sent (moralis-webhooks/tests/fixtures/*.json, field `body`)
# plus a few hand-written requests. Deterministic: run it again after changing the
# fixtures or the input layout (README.md) and commit the result. Needs bash and jq.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fixtures="$here/../moralis-webhooks/tests/fixtures"
dispatch="$here/corpus/dispatch"
object="$here/corpus/object"
mkdir -p "$dispatch" "$object"
rm -f "$dispatch"/seed-* "$object"/seed-*

# bytes HEX...: the given bytes, e.g. `bytes 00 ff`.
bytes() { local b; for b in "$@"; do printf "\\x$b"; done; }

# dispatch: method POST (00), custom path (ff), the key (00), app A (00),
# script = mode, message, op count, ops; then the path, a newline, the body.
dispatch_seed() { # name path body script-bytes...
  local name=$1 path=$2 body=$3
  shift 3
  { bytes 00 ff 00 00 "$@"; printf '%s\n' "$path"; printf '%s' "$body"; } >"$dispatch/seed-$name"
}

# object: class index, flags, script bytes; then the body.
object_seed() { # name class-index-hex flags-hex body script-bytes...
  local name=$1 class=$2 flags=$3 body=$4
  shift 4
  { bytes "$class" "$flags" "$@"; printf '%s' "$body"; } >"$object/seed-$name"
}

class_index() {
  case "$1" in
    GameScore) echo 00 ;; _User) echo 01 ;; _Installation) echo 02 ;;
    *) echo "unknown class $1" >&2; exit 1 ;;
  esac
}

for fixture in "$fixtures"/*.json; do
  name="$(basename "$fixture" .json)"
  path="$(jq -r .path "$fixture")"
  body="$(jq -c .body "$fixture")"
  # As recorded: handlers succeed and change nothing.
  dispatch_seed "$name" "$path" "$body" 00 00 00
  case "$path" in
    /triggers/*)
      # Set field (key selector 0x83 = "reviewed") to true, remove the first field.
      dispatch_seed "$name-edit" "$path" "$body" 00 00 02  00 83 01  02 00 00
      class="$(echo "$path" | cut -d/ -f3)"
      trigger="$(echo "$path" | cut -d/ -f4)"
      if [ "$trigger" = beforeSave ]; then
        idx="$(class_index "$class")"
        object_seed "$name" "$idx" 00 "$body" 00 00 00
        # set reviewed, remove extra (0x84), increment plays (0x90) by 3, read score,
        # mutate the second field in place, plant a password.
        object_seed "$name-edit" "$idx" 00 "$body" 00 00 06 \
          00 83 01  02 84 00  03 90 03  05 80 00  04 01 00  07 00 00
        object_seed "$name-secrets" "$idx" 01 "$body" 00 00 02  09 00 00  05 85 00
      fi
      ;;
  esac
done

hello="$(jq -c .body "$fixtures/function_hello_user.json")"
typed_params='{"name":"Ada","n":3,"nested":{"a":[1,2]},"when":"2024-01-02T03:04:05.678Z","ptr":{"objectId":"abc123","className":"_User"},"tags":["x"],"ratio":0.5,"choice":{"Point":{"x":1,"y":-2}}}'
dispatch_seed typed /functions/typed "{\"functionName\":\"typed\",\"params\":$typed_params}" 00 00 00
dispatch_seed typed-missing /functions/typed '{"functionName":"typed","params":{"n":1}}' 00 00 00
dispatch_seed unicode-name /functions/%C3%84%C3%96%C3%9C '{"functionName":"ÄÖÜ","params":{"k":"v"}}' 00 00 00
dispatch_seed colon-name /functions/v2:price '{"functionName":"v2:price","params":{}}' 00 00 00
dispatch_seed no-params /functions/hello '{}' 00 00 00
dispatch_seed error /functions/hello "$hello" 0a 02 00
dispatch_seed panic /functions/hello "$hello" 0c 00 00
dispatch_seed sleep /functions/typed "{\"params\":$typed_params}" 0d 00 00
dispatch_seed unencodable /functions/hello "$hello" 0e 00 00
dispatch_seed query '/functions/hello?x=1' "$hello" 00 00 00
dispatch_seed livez /livez '' 00 00 00
dispatch_seed not-an-object /functions/hello '[1,2]' 00 00 00
# app B: public path /hooks, 1 KiB body limit.
{ bytes 00 ff 00 01 00 00 00; printf '/hooks/functions/hello\n%s' "$hello"; } >"$dispatch/seed-prefixed"
# A wrong key and a GET.
{ bytes 00 ff 05 00 00 00 00; printf '/functions/hello\n%s' "$hello"; } >"$dispatch/seed-wrong-key"
{ bytes 0a ff 00 00 00 00 00; printf '/functions/hello\n%s' "$hello"; } >"$dispatch/seed-get"

# object: a bare object, sent as object and original; and a create.
object_seed bare 00 00 '{"score":1,"name":"x","ACL":{"*":{"read":true}}}' 00 00 02  00 83 01  02 00 00
object_seed bare-create 00 04 '{"score":1,"name":"x"}' 08 00 01  00 83 01

echo "dispatch: $(ls "$dispatch"/seed-* | wc -l) seeds, object: $(ls "$object"/seed-* | wc -l) seeds"
