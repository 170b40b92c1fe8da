# Sourced by test/packaging.sh and test/tools.sh: `stage NAME` closes the previous stage with the
# seconds it took and opens the next one.
stage_start=$(date +%s)
stage() {
    local now
    now=$(date +%s)
    [ -n "${stage_name:-}" ] && echo "--- ${stage_name}: $((now - stage_start)) s"
    stage_name=$1
    stage_start=$now
    echo "=== $1"
}
