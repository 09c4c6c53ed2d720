#!/usr/bin/env bash
# fake_ollama.sh: fake_start sets FAKE_PORT/FAKE_PID/FAKE_URL for a running
# server, fake_stop stops it cleanly; a bad start fails.
set -euo pipefail
source "$SOURCE_DIR/tests/support/fake_ollama.sh"

fake_start --dim 4
[[ $FAKE_PORT =~ ^[0-9]+$ ]] || { echo "bad FAKE_PORT '$FAKE_PORT'"; exit 1; }
[[ $FAKE_URL == "http://127.0.0.1:$FAKE_PORT" ]] || { echo "bad FAKE_URL"; exit 1; }
kill -0 "$FAKE_PID"
pid=$FAKE_PID
reply=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/api/tags").read().decode())' "$FAKE_URL")
[[ $reply == *'"name":"bge-m3:latest"'* ]] || { echo "bad tags: $reply"; exit 1; }
fake_stop
if kill -0 "$pid" 2>/dev/null; then echo "server still running"; exit 1; fi

if fake_start --host 0.0.0.0 2>/dev/null; then echo "non-loopback start succeeded"; exit 1; fi
[[ -z $FAKE_PID ]] || { echo "FAKE_PID left set"; exit 1; }
echo "fake_ollama.sh ok"
