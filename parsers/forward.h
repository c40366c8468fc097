/*
 * NAME
 *	forward 3h - find the original mail inside a forward
 * DESCRIPTION
 *	A rep forwards a customer's mail to the dropbox; the CRM must log
 *	the customer's mail, not the rep's forward. crm_forward_detect()
 *	finds the original in a parsed message:
 *	- attached: exactly one message/rfc822 attachment;
 *	- inline, as the common clients write it (English):
 *	  Gmail       "---------- Forwarded message ---------"
 *	  Outlook     "-----Original Message-----" or a line of underscores
 *	              followed by From:/Sent:/To:/Subject:
 *	  Apple Mail  "Begin forwarded message:"
 *	  Thunderbird "-------- Forwarded Message --------"
 *	  then a block of "Field: value" lines (From, To, Cc, Date/Sent,
 *	  Subject), then the original text. The block is parsed as a real
 *	  header (gmime), so names, addresses and dates come out as in any
 *	  mail; Outlook's "Name [mailto:addr]" is understood.
 *	The forwarder's own note (the text above the marker) is kept.
 *	Pure: bytes in, structs out, bounded by the parse limits.
 * OWNERSHIP
 *	crm_forward_free() frees the result and its original message.
 */
#ifndef CRM_FORWARD_H
#define CRM_FORWARD_H

#include "mail_message.h"

typedef struct crm_forward {
    crm_message *original;	/* From/To/Cc/Subject/Date/body of the original */
    char *note;			/* the forwarder's text above it, or "" */
    const char *format;		/* "attached", "gmail", "outlook", "apple", "thunderbird" */
} crm_forward;

/* NULL when msg is no forward (or the original cannot be read). */
crm_forward *crm_forward_detect(const crm_message *msg, const crm_parse_limits *lim);
void crm_forward_free(crm_forward *f);

#endif
