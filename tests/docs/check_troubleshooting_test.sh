#!/usr/bin/env bash
# check_troubleshooting.sh fails, naming each, on the entries a README goes stale with: a
# message the code no longer prints, a libvirt message docs/design.md does not record, a vfctl
# command or subcommand that does not exist, an option the command does not take, a quote too
# short to mean anything. It passes on the same section without them.
# Usage: check_troubleshooting_test.sh CHECK_SCRIPT VFCTL SOURCE_DIR
set -euo pipefail
check=$1 vfctl=$2 source_dir=$(cd "$3" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# A source tree that is the real one but for its README.
mkdir "$work/tree"
for entry in "$source_dir"/*; do
  [ "$(basename "$entry")" = README.md ] || ln -s "$entry" "$work/tree/"
done

good_section() {
  printf '%s\n' '# vfhook' '' '## Troubleshooting' '' \
    "- \`VLAN … is outside pool '…' (allowed: …). Use a VLAN of the pool, or ask the host's administrator to widen the pool in the vfhook config.\`" \
    "  Re-add it: \`vfctl port remove web1 ua-vfhook0\`, then \`vfctl port add web1 --pool provider --vlan 120\`." \
    "- \`\`this VF is reserved for domain '…'. Give this port a free VF (\`vfctl port remove\`, then \`vfctl port add\` picks one), or remove that domain's port first (\`vfctl port list …\` shows it).\`\`" \
    "- libvirt: \`cannot migrate domain: VFIO device doesn't support migration\`" \
    "  \`sudo vfctl --json claims --count\`, \`vfctl -c qemu+ssh://b/system migrate web1 qemu:///system --cold --shutdown\`"
  for n in $(seq 1 18); do
    printf '%s\n' "- \`domain '…' is using this VF. Pick a free VF of the pool or stop '…' first.\`"
  done
  printf '%s\n' '' '```' 'sudo vfctl doctor' 'vfctl vfs apply --wait 60' '```' '' '## vfctl' \
    '' "- \`this text is outside the section and never checked\`" '' '`vfctl nosuchcommand`'
}

# run_check README_TEXT: the check's output, its exit status last.
run_check() {
  cat > "$work/tree/README.md"
  set +e
  bash "$check" "$vfctl" "$work/tree" 2>&1
  echo "exit $?"
  set -e
}

out=$(good_section | run_check)
if [ "$(tail -1 <<< "$out")" != "exit 0" ]; then
  echo "FAIL: the check fails on a section that is true:"
  echo "$out"
  failed=1
else
  echo "ok: a true section passes"
fi

expect_failure() { # NAME EXPECTED_LINE_PART LINE_TO_ADD
  local name=$1 expected=$2 line=$3 out
  out=$(good_section | awk -v line="$line" '{ print } /^## Troubleshooting$/ { print ""; print line }' |
    run_check)
  if [ "$(tail -1 <<< "$out")" = "exit 0" ]; then
    echo "FAIL: $name: the check passed"
    failed=1
  elif ! grep -qF -- "$expected" <<< "$out"; then
    echo "FAIL: $name: the check failed without saying '$expected':"
    echo "$out"
    failed=1
  else
    echo "ok: $name: $(grep -F -- "$expected" <<< "$out" | head -1)"
  fi
}

expect_failure "a reworded message" "missing: 'is outside the pool '" \
  "- \`VLAN … is outside the pool '…' (allowed: …).\`"
expect_failure "a second message on the entry's line" "missing: 'the hook has never said this'" \
  "- \`PF … is down, and a guest's VF driver takes a random MAC until its PF is up.\` or \`the hook has never said this\`"
expect_failure "a libvirt message design.md does not record" "not in docs/design.md" \
  "- libvirt: \`internal error: this is not what libvirt said\`"
expect_failure "a quote of names only" "too short to check" "- \`… VF …\`"
expect_failure "an unknown command" "names no vfctl command ('frobnicate'" \
  "  Run \`vfctl frobnicate web1\`."
expect_failure "an unknown subcommand" "vfctl port has no command 'edit'" \
  "  Run \`sudo vfctl port edit web1 ua-vfhook0\`."
expect_failure "an unknown option" "vfctl detach has no option --wait" \
  "  Run \`vfctl detach web1 ua-vfhook0 --wait 60\`."
expect_failure "an unknown option inside a quoted message" "vfctl migrate has no option --hot" \
  "- \`\`… Move it cold with \`vfctl migrate … DEST_URI --hot\`, or set failover = true for pool '…' on both hosts.\`\`"
expect_failure "an unknown command in a fenced block" "names no vfctl command ('restart'" \
  "$(printf '%s\n' '```' 'sudo vfctl restart' '```')"
exit $failed
