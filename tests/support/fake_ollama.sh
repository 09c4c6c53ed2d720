# support/fake_ollama.sh - start/stop the fake Ollama server from a bash test.
#
#   source "$SOURCE_DIR/tests/support/fake_ollama.sh"
#   fake_start --dim 8 --log "$dir/log"     # sets FAKE_PORT, FAKE_PID, FAKE_URL
#   curl -s "$FAKE_URL/api/tags"
#   fake_stop                                # SIGTERM + wait; returns the exit status
#
# The binary is $FAKE_OLLAMA (set by ctest), else $BUILD_DIR/tests/fake-ollama/fake-ollama.
# fake_start returns 1 (and prints why) if no "listening" line appears within 10 s.
# Only one server per shell at a time with these variables; copy them to start more.

fake_start() {
    local bin=${FAKE_OLLAMA:-${BUILD_DIR:-.}/tests/fake-ollama/fake-ollama}
    local out
    out=$(mktemp "${TMPDIR:-/tmp}/fake-ollama-out.XXXXXX") || return 1
    "$bin" --port 0 "$@" >"$out" &
    FAKE_PID=$!
    FAKE_PORT=
    local i line
    for ((i = 0; i < 200; i++)); do
        # Only a complete line (with its newline) counts.
        line=
        [[ $(wc -l <"$out") -ge 1 ]] && line=$(head -n 1 "$out")
        if [[ $line == "listening 127.0.0.1:"* ]]; then
            FAKE_PORT=${line##*:}
            break
        fi
        if ! kill -0 "$FAKE_PID" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    rm -f "$out"
    if [[ -z $FAKE_PORT ]]; then
        echo "fake_start: $bin $* did not start" >&2
        kill -KILL "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
        FAKE_PID=
        return 1
    fi
    FAKE_URL="http://127.0.0.1:$FAKE_PORT"
    export FAKE_PORT FAKE_PID FAKE_URL
    return 0
}

fake_stop() {
    [[ -n ${FAKE_PID:-} ]] || return 0
    local rc=0
    kill -TERM "$FAKE_PID" 2>/dev/null
    wait "$FAKE_PID" || rc=$?
    FAKE_PID=
    return $rc
}
