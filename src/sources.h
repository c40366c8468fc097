/*
 * NAME
 *	sources 3h - run the syncs of connected mailboxes and calendars inside serve
 * DESCRIPTION
 *	One thread looks at the sources table every CRM_SOURCES_SCAN_S
 *	seconds and starts a sync thread (imap_sync.h for kind "imap",
 *	caldav_sync.h for kind "caldav") for each source this
 *	gateway is not already syncing. A sync thread that finds the lease
 *	held by another gateway ends; the next scan tries again, so when
 *	that gateway dies, this one takes over once its lease expires.
 * OWNERSHIP
 *	crm_sources_stop() asks every sync to stop, waits for them (each
 *	releases its lease) and frees everything. cfg must outlive it.
 */
#ifndef CRM_SOURCES_H
#define CRM_SOURCES_H

#include "config.h"

#define CRM_SOURCES_SCAN_S	5

typedef struct crm_sources crm_sources;

crm_sources *crm_sources_start(const crm_config *cfg);
void crm_sources_stop(crm_sources *s);

#endif
