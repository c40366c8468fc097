#!/bin/bash
# What the AI reads: a reply is embedded by the text its writer added,
# while the interaction keeps the whole mail, quote included.
. "$(dirname "$0")/lib.sh"

"$CRMGATE" workspace add Vendor --domain vendor.example >/dev/null
"$CRMGATE" user add --workspace Vendor --email maria@vendor.example >/dev/null
d="$WORK/mail"; mkdir -p "$d"
cp "$top_srcdir/tests/data/replies/gmail-reply.eml" "$d/reply.eml"
mail "$d/fresh.eml" "Carla Cfo <carla@initech.example>" "maria@vendor.example" "Budget" \
     "Wed, 13 Mar 2024 09:00:00 +0000" "<budget-1@initech.example>" "" \
     "The budget for the analytics module is approved."
mail "$d/quote-only.eml" "Pat <pat@initech.example>" "maria@vendor.example" "Re: Budget" \
     "Thu, 14 Mar 2024 09:00:00 +0000" "<budget-2@initech.example>" "" \
     "$(printf 'On Wed, Mar 13, 2024 at 9:00 AM Carla Cfo <carla@initech.example> wrote:\n> The budget is approved.')"
ingest Vendor "$d"
is "$INGEST_LINE" "ingested 3, duplicates 0, skipped 0, failed 0" "the reply and two other mails are ingested"

job="FROM interactions i JOIN embedding_jobs e ON e.target_id = i.id AND e.target_table = 'interactions'"
reply="i.metadata->>'message_id' = 'CAgmail-reply-1@mail.gmail.example'"
content=$(sql "SELECT i.content $job WHERE $reply")
input=$(sql "SELECT coalesce(e.input_text, '<null>') $job WHERE $reply")
like "$content" "Could we move the renewal call to next week" "the interaction's content keeps the quoted mail"
like "$content" "Tuesday at 3pm works" "and the reply's own text"
like "$input" "^Re: Renewal call" "the embedding text starts with the subject"
like "$input" "Tuesday at 3pm works. Our procurement lead will join the call." "and holds the reply's own text"
is "$(printf '%s' "$input" | grep -c -e 'Could we move' -e 'wrote:' -e '^>')" "0" \
   "but neither the quote nor its attribution line"
is "$(sql "SELECT coalesce(e.input_text, '<null>') $job WHERE i.metadata->>'message_id' = 'budget-1@initech.example'")" \
   "<null>" "a mail without a quote is embedded by its content (input_text stays NULL)"
is "$(sql "SELECT coalesce(e.input_text, '<null>') $job WHERE i.metadata->>'message_id' = 'budget-2@initech.example'")" \
   "<null>" "a reply with no new text is embedded whole rather than as nothing"

done_testing
