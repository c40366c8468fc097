# dovecot.sh - a real Dovecot IMAP server for the integration tests, with
# its own configuration under $WORK/dovecot, on loopback ports, TLS with a
# throwaway CA. Sourced after lib.sh.
#
#   dovecot_start            start it (first call: configure it)
#   dovecot_stop             stop it (mail stays)
#   dovecot_add_user U P     a mailbox, password P
#   dovecot_deliver U FOLDER FILE...   drop messages into a folder
#   dovecot_recreate U FOLDER          delete and recreate a folder with
#                                      the same messages: new UIDVALIDITY
#   dovecot_enable_oauth2 TOKEN EMAIL  (before start) XOAUTH2 logins with
#                                      TOKEN are EMAIL's
# Sets DOVECOT_PORT (STARTTLS/plain), DOVECOT_TLS_PORT, DOVECOT_CA.

DOVECOT_DIR="$WORK/dovecot"
DOVECOT_CONF="$DOVECOT_DIR/dovecot.conf"
DOVECOT_CA="$DOVECOT_DIR/ca.pem"
DOVECOT_PORT=
DOVECOT_TLS_PORT=

# Dovecot refuses to give mail to root: as root, mail belongs to nobody.
if [ "$(id -u)" = 0 ]; then
    DOVECOT_MAIL_USER=nobody
    DOVECOT_MAIL_GROUP=$(id -gn nobody)
    DOVECOT_LOGIN_USER=dovenull
    DOVECOT_INTERNAL_USER=dovecot
else
    DOVECOT_MAIL_USER=$(id -un)
    DOVECOT_MAIL_GROUP=$(id -gn)
    DOVECOT_LOGIN_USER=$DOVECOT_MAIL_USER
    DOVECOT_INTERNAL_USER=$DOVECOT_MAIL_USER
fi

dovecot_configure() {
    mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/home"
    # mail processes run as the mail user: they must reach their homes
    chmod 755 "$CRMGATE_HOME" "$WORK" "$DOVECOT_DIR" "$DOVECOT_DIR/home"
    : > "$DOVECOT_DIR/passwd"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=crmgate test CA" \
        -keyout "$DOVECOT_DIR/ca.key" -out "$DOVECOT_CA" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$DOVECOT_DIR/key.pem" -out "$DOVECOT_DIR/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$DOVECOT_DIR/san.ext"
    openssl x509 -req -in "$DOVECOT_DIR/server.csr" -CA "$DOVECOT_CA" -CAkey "$DOVECOT_DIR/ca.key" \
        -CAcreateserial -days 2 -extfile "$DOVECOT_DIR/san.ext" \
        -out "$DOVECOT_DIR/cert.pem" >/dev/null 2>&1
    chmod 644 "$DOVECOT_DIR/key.pem"
    DOVECOT_PORT=$((20000 + RANDOM % 30000)); DOVECOT_TLS_PORT=$((DOVECOT_PORT + 1))
    cat > "$DOVECOT_CONF" <<EOF
base_dir = $DOVECOT_DIR/run
state_dir = $DOVECOT_DIR/state
log_path = $DOVECOT_DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$DOVECOT_DIR/cert.pem
ssl_key = <$DOVECOT_DIR/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = $DOVECOT_LOGIN_USER
default_internal_user = $DOVECOT_INTERNAL_USER
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVECOT_DIR/passwd
}
userdb {
  driver = static
  args = uid=$DOVECOT_MAIL_USER gid=$DOVECOT_MAIL_GROUP home=$DOVECOT_DIR/home/%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DOVECOT_TLS_PORT
    ssl = yes
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
EOF
    mkdir -p "$DOVECOT_DIR/state"
}

dovecot_start() {
    local try
    [ -f "$DOVECOT_CONF" ] || dovecot_configure
    for try in 1 2 3; do
        # no inherited stdout: the test harness waits for its pipe to close
        if dovecot -c "$DOVECOT_CONF" </dev/null >/dev/null 2>>"$DOVECOT_DIR/start.log"; then
            for _ in $(seq 100); do
                if (exec 3<>/dev/tcp/127.0.0.1/$DOVECOT_PORT) 2>/dev/null; then
                    return 0
                fi
                sleep 0.1
            done
        fi
        # the port may have been taken meanwhile: move to other ones
        dovecot_stop
        local old=$DOVECOT_PORT
        DOVECOT_PORT=$((20000 + RANDOM % 30000)); DOVECOT_TLS_PORT=$((DOVECOT_PORT + 1))
        sed -i "s/port = $old\$/port = $DOVECOT_PORT/; s/port = $((old + 1))\$/port = $DOVECOT_TLS_PORT/" \
            "$DOVECOT_CONF"
    done
    echo "# dovecot did not start:"; sed 's/^/# /' "$DOVECOT_DIR/dovecot.log" "$DOVECOT_DIR/start.log" | tail -20
    return 1
}

# dovecot_start_or_fail: dovecot_start, or the test ends as one failure
dovecot_start_or_fail() {
    dovecot_start && return 0
    ok 1 "dovecot starts"
    done_testing
    exit 1
}

dovecot_stop() {	# [all]: the OAuth2 token check too
    [ -z "$DOVECOT_OAUTH_PID" ] || [ "${1:-}" != all ] || kill "$DOVECOT_OAUTH_PID" 2>/dev/null
    # the master's SIGTERM ends its children too; quicker than doveadm
    kill "$(cat "$DOVECOT_DIR/run/master.pid" 2>/dev/null)" 2>/dev/null
    for _ in $(seq 50); do
        [ -e "$DOVECOT_DIR/run/master.pid" ] || return 0
        kill -0 "$(cat "$DOVECOT_DIR/run/master.pid" 2>/dev/null)" 2>/dev/null || return 0
        sleep 0.1
    done
}

dovecot_add_user() {	# USER PASSWORD
    printf '%s:{PLAIN}%s\n' "$1" "$2" >> "$DOVECOT_DIR/passwd"
    mkdir -p "$DOVECOT_DIR/home/$1/Maildir"/{cur,new,tmp}
    chown -R "$DOVECOT_MAIL_USER:$DOVECOT_MAIL_GROUP" "$DOVECOT_DIR/home/$1"
}

_maildir_of() {		# USER FOLDER
    if [ "$2" = INBOX ]; then
        echo "$DOVECOT_DIR/home/$1/Maildir"
    else
        echo "$DOVECOT_DIR/home/$1/Maildir/.$2"
    fi
}

DOVECOT_SEQ=0
dovecot_deliver() {	# USER FOLDER FILE...
    local user=$1 folder=$2 dir f
    shift 2
    dir=$(_maildir_of "$user" "$folder")
    mkdir -p "$dir"/{cur,new,tmp}
    for f in "$@"; do
        DOVECOT_SEQ=$((DOVECOT_SEQ + 1))
        # write in tmp/, then rename: Maildir's atomic delivery
        cp "$f" "$dir/tmp/$$.$DOVECOT_SEQ.test"
        mv "$dir/tmp/$$.$DOVECOT_SEQ.test" "$dir/new/$(date +%s).M${DOVECOT_SEQ}P$$.test"
    done
    chown -R "$DOVECOT_MAIL_USER:$DOVECOT_MAIL_GROUP" "$DOVECOT_DIR/home/$user"
}

# Old mail: its arrival date (Maildir file time) set in the past, so that
# SEARCH SINCE leaves it out.
dovecot_deliver_dated() {	# USER FOLDER YYYY-MM-DD FILE...
    local user=$1 folder=$2 day=$3 dir f
    shift 3
    dir=$(_maildir_of "$user" "$folder")
    mkdir -p "$dir"/{cur,new,tmp}
    for f in "$@"; do
        DOVECOT_SEQ=$((DOVECOT_SEQ + 1))
        cp "$f" "$dir/tmp/$$.$DOVECOT_SEQ.test"
        touch -d "$day 12:00:00" "$dir/tmp/$$.$DOVECOT_SEQ.test"
        mv "$dir/tmp/$$.$DOVECOT_SEQ.test" "$dir/cur/$(date -d "$day" +%s).M${DOVECOT_SEQ}P$$.test:2,S"
    done
    chown -R "$DOVECOT_MAIL_USER:$DOVECOT_MAIL_GROUP" "$DOVECOT_DIR/home/$user"
}

# The folder deleted and made again with the same messages, as when a
# mailbox is restored from backup: the server gives it a new UIDVALIDITY.
dovecot_recreate() {	# USER FOLDER
    local dir keep
    dir=$(_maildir_of "$1" "$2")
    keep="$DOVECOT_DIR/keep.$$"
    dovecot_stop
    mkdir -p "$keep"
    # mv keeps the files' times: their arrival dates stay as they were
    mv "$dir"/cur/* "$dir"/new/* "$keep"/ 2>/dev/null
    if [ "$2" = INBOX ]; then
        rm -rf "$dir"/cur "$dir"/new "$dir"/tmp "$dir"/dovecot-uidlist "$dir"/dovecot.index* \
            "$dir"/dovecot-uidvalidity*
    else
        rm -rf "$dir"
    fi
    sleep 1	# UIDVALIDITY is a time stamp: make sure it differs
    mkdir -p "$dir"/{cur,new,tmp}
    mv "$keep"/* "$dir/cur/"
    rmdir "$keep"
    chown -R "$DOVECOT_MAIL_USER:$DOVECOT_MAIL_GROUP" "$DOVECOT_DIR/home/$1"
    dovecot_start
}

DOVECOT_OAUTH_PID=
dovecot_enable_oauth2() {	# TOKEN EMAIL, before dovecot_start
    local port
    [ -f "$DOVECOT_CONF" ] || dovecot_configure
    port=$((DOVECOT_PORT + 2))
    python3 "$(dirname "${BASH_SOURCE[0]}")/oauth2-introspect.py" "$port" "$1" "$2" &
    DOVECOT_OAUTH_PID=$!
    cat > "$DOVECOT_DIR/oauth2.conf.ext" <<EOF
introspection_mode = get
introspection_url = http://127.0.0.1:$port/introspect?token=
username_attribute = email
active_attribute = active
active_value = true
EOF
    sed -i 's/^auth_mechanisms = plain login$/auth_mechanisms = plain login xoauth2/' "$DOVECOT_CONF"
    cat >> "$DOVECOT_CONF" <<EOF
passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = $DOVECOT_DIR/oauth2.conf.ext
}
EOF
}
