# radicale.sh - a throwaway Radicale CalDAV server for the integration
# tests, sourced after lib.sh. Its own config in $WORK/radicale, a random
# loopback port, htpasswd plain auth, owner-only rights.
#
#   radicale_start USER:PASSWORD...  start it; sets RADICALE_URL (no
#                                    trailing slash); 1 when it will not run
#   radicale_stop                    stop it (also set as the EXIT trap's
#                                    job by the caller)
#   radicale_installed               0 when the radicale command exists

RAD_DIR="$WORK/radicale"
RAD_PID=
RADICALE_URL=

radicale_installed() { command -v radicale >/dev/null; }

radicale_stop() {
    [ -z "$RAD_PID" ] || { kill "$RAD_PID" 2>/dev/null; wait "$RAD_PID" 2>/dev/null; }
    RAD_PID=
}

radicale_start() {
    local try port u
    mkdir -p "$RAD_DIR"
    : > "$RAD_DIR/users"
    for u in "$@"; do printf '%s\n' "$u" >> "$RAD_DIR/users"; done
    for try in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 30000))
        cat > "$RAD_DIR/config" <<CONF
[server]
hosts = 127.0.0.1:$port
[auth]
type = htpasswd
htpasswd_filename = $RAD_DIR/users
htpasswd_encryption = plain
[storage]
filesystem_folder = $RAD_DIR/collections
[rights]
type = owner_only
[logging]
level = warning
CONF
        radicale --config "$RAD_DIR/config" >>"$RAD_DIR/log" 2>&1 &
        RAD_PID=$!
        for _ in $(seq 100); do
            if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
                RADICALE_URL="http://127.0.0.1:$port"
                return 0
            fi
            kill -0 "$RAD_PID" 2>/dev/null || break
            sleep 0.1
        done
        radicale_stop
    done
    return 1
}
