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

# The value the harness plants under secret keys (SENTINEL in src/lib.rs).
sentinel=SENTINEL-c0ffee-do-not-print

# A recorded call on a class the harness does not serve (the fixtures' AF, BF, Ref, LQ),
# moved to GameScore: the objects and the LiveQuery query name the class too.
move_to_game_score() { # old-class, body on stdin
  jq -c --arg old "$1" '
    def move: if type == "object" and .className == $old then .className = "GameScore" else . end;
    (if has("object") then .object |= move else . end)
    | (if has("original") then .original |= move else . end)
    | (if (.query | type) == "object" then .query |= move else . end)
    | (if (.objects | type) == "array" then .objects |= map(move) else . end)'
}

# The body with the sentinel under every secret key it has (session tokens, passwords, the
# master key header), in authData of its object and user, and in beforeConnect`s client.
plant_secrets() { # body on stdin
  jq -c --arg s "$sentinel" '
    def secret: IN("sessionToken", "password", "_session_token", "_hashed_password",
                   "x-parse-session-token", "x-parse-master-key");
    walk(if type == "object"
         then with_entries(if (.key | secret) then .value = $s else . end)
         else . end)
    | (if (.object | type) == "object" then .object.authData = {anonymous: {id: $s}} else . end)
    | (if (.user | type) == "object" then .user.authData = {anonymous: {id: $s}} else . end)
    | (if (.client | type) == "object" then .client.id = $s else . end)'
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
  case "$path" in
    /triggers/AF/* | /triggers/BF/* | /triggers/Ref/* | /triggers/LQ/*)
      old="$(echo "$path" | cut -d/ -f3)"
      path="/triggers/GameScore/$(echo "$path" | cut -d/ -f4)"
      body="$(move_to_game_score "$old" <<<"$body")"
      ;;
  esac
  # As recorded: handlers succeed and change nothing.
  dispatch_seed "$name" "$path" "$body" 00 00 00
  case "$path" in
    /triggers/*)
      # Set field (key selector 0x83 = "reviewed") to true, remove the first field.
      dispatch_seed "$name-edit" "$path" "$body" 00 00 02  00 83 01  02 00 00
      # Secrets planted; the handler also plants a password and prints the object.
      dispatch_seed "$name-secrets" "$path" "$(plant_secrets <<<"$body")" 00 00 02  07 00 00  09 00 00
      class="$(echo "$path" | cut -d/ -f3)"
      trigger="$(echo "$path" | cut -d/ -f4)"
      if [ "$trigger" = beforeSave ] && [ "$class" != @File ]; then
        idx="$(class_index "$class")"
        object_seed "$name" "$idx" 00 "$body" 00 00 00
        # set reviewed, remove extra (0x84), increment plays (0x90) by 3, read score,
        # mutate the second field in place, plant a password.
        object_seed "$name-edit" "$idx" 00 "$body" 00 00 06 \
          00 83 01  02 84 00  03 90 03  05 80 00  04 01 00  07 00 00
        object_seed "$name-secrets" "$idx" 01 "$body" 00 00 02  09 00 00  05 85 00
      fi
      if [ "$trigger" = afterEvent ]; then
        # The afterEvent route (flags bit 4), as recorded and with secrets planted.
        idx="$(class_index "$class")"
        object_seed "$name" "$idx" 10 "$body" 00 00 00
        object_seed "$name-secrets" "$idx" 11 "$body" 00 00 02  09 00 00  05 85 00
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
# The kinds whose success is {}: errors, a panic, a timeout, a failed read with `?`.
login="$(jq -c .body "$fixtures/beforeLogin.json")"
file="$(jq -c .body "$fixtures/file_beforeSave.json")"
subscribe="$(jq -c .body "$fixtures/beforeSubscribe.json" | move_to_game_score LQ)"
dispatch_seed login-error /triggers/_User/beforeLogin "$login" 0a 02 00
dispatch_seed login-empty-error /triggers/_User/beforeLogin "$login" 0a 00 00
dispatch_seed login-internal /triggers/_User/beforeLogin "$login" 0b 00 00
dispatch_seed login-read-fails /triggers/_User/beforeLogin "$login" 00 00 01  0b 80 00
dispatch_seed file-panic /triggers/@File/beforeSave "$file" 0c 00 00
dispatch_seed file-sleep /triggers/%40File/beforeSave "$file" 0d 00 00
dispatch_seed subscribe-error /triggers/GameScore/beforeSubscribe "$subscribe" 0a 03 00
# Bodies that are no call of their route: 400.
dispatch_seed login-no-object /triggers/_User/beforeLogin '{"triggerName":"beforeLogin"}' 00 00 00
dispatch_seed login-other-trigger /triggers/_User/afterLogin "$login" 00 00 00
dispatch_seed login-other-class /triggers/_User/beforeLogin \
  '{"triggerName":"beforeLogin","object":{"className":"GameScore"}}' 00 00 00
dispatch_seed file-no-file /triggers/@File/afterSave '{"triggerName":"afterSave","fileSize":3}' 00 00 00
dispatch_seed subscribe-other-class /triggers/_User/beforeSubscribe "$subscribe" 00 00 00
dispatch_seed find-bad-query /triggers/GameScore/beforeFind '{"query":{"where":{},"limit":"ten"}}' 00 00 00
# Hooks no handler serves: 200 with an error for valid names, 405 for a GET, 404 otherwise.
dispatch_seed unserved-function /functions/missing "$hello" 00 00 00
dispatch_seed unserved-trigger /triggers/Other/afterFind '{}' 00 00 00
dispatch_seed invalid-trigger /triggers/@File/afterFind '{}' 00 00 00
{ bytes 0a ff 00 00 00 00 00; printf '/triggers/Other/beforeSave\n{}'; } >"$dispatch/seed-unserved-get"
# app B: public path /hooks, 1 KiB body limit.
{ bytes 00 ff 00 01 00 00 00; printf '/hooks/functions/hello\n%s' "$hello"; } >"$dispatch/seed-prefixed"
{ bytes 00 ff 00 01 00 00 00; printf '/hooks/triggers/@Connect/beforeConnect\n{"clients":1}'; } >"$dispatch/seed-prefixed-connect"
# A wrong key and a GET.
{ bytes 00 ff 05 00 00 00 00; printf '/functions/hello\n%s' "$hello"; } >"$dispatch/seed-wrong-key"
{ bytes 0a ff 00 00 00 00 00; printf '/functions/hello\n%s' "$hello"; } >"$dispatch/seed-get"

# object: a bare object, sent as object and original; and a create.
object_seed bare 00 00 '{"score":1,"name":"x","ACL":{"*":{"read":true}}}' 00 00 02  00 83 01  02 00 00
object_seed bare-create 00 04 '{"score":1,"name":"x"}' 08 00 01  00 83 01

echo "dispatch: $(ls "$dispatch"/seed-* | wc -l) seeds, object: $(ls "$object"/seed-* | wc -l) seeds"
