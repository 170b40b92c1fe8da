# Sourced by test/packaging.sh, test/tools.sh and test/matrix.sh: `stage NAME` closes the previous
# stage with the seconds it took and opens the next one; `b2_summary ARGS...` runs b2 with them.
stage_start=$(date +%s)
stage() {
    local now
    now=$(date +%s)
    [ -n "${stage_name:-}" ] && echo "--- ${stage_name}: $((now - stage_start)) s"
    stage_name=$1
    stage_start=$now
    echo "=== $1"
}

# `b2 -j2 -l900 ARGS...`, printing only how many test targets passed; on a failure, the lines that
# say what failed (the full log is kept, and named), and returns 1.
b2_summary() {
    local log
    log=$(mktemp)
    if b2 -j2 -l900 "$@" > "$log" 2>&1; then
        echo "$(grep -c '^\*\*passed\*\*' "$log") test targets passed (b2 re-runs only what changed)"
        rm -f "$log"
    else
        grep -E '\.\.\.failed|error: |ERROR: |WARNING: ThreadSanitizer|runtime error' "$log" | head -n 40
        echo "(the whole b2 output: $log)"
        return 1
    fi
}
