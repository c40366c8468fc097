/*
 * NAME
 *	ingest 3h - the file source: .eml files, mbox files, Maildirs, .ics files
 * DESCRIPTION
 *	crm_ingest_path() feeds every message under one path to a pipeline.
 *	What a path is comes from its content, never its name:
 *	- a directory with cur/ or new/ is a Maildir: the messages in cur/
 *	  and new/ (tmp/ holds deliveries in progress and is skipped);
 *	- any other directory is walked in name order, recursively (so a
 *	  Maildir++ tree with .Sent/ folders is covered);
 *	- a file starting with BEGIN:VCALENDAR is iCalendar: its events'
 *	  occurrences become meetings (crm_pipeline_submit_calendar);
 *	- a file starting with an mbox "From " line is an mbox, split into
 *	  its messages (each reported as "FILE (mbox offset N)");
 *	- any other file is one message; the parser refuses what is not.
 *	Small files are read into one reused buffer; large ones (an mbox) are
 *	mapped, so they cost no memory.
 * DIAGNOSTICS
 *	Unreadable files are reported through the pipeline as failed and
 *	the walk goes on. Returns -1 with err set only when the pipeline
 *	reports the database unreachable.
 */
#ifndef CRM_INGEST_H
#define CRM_INGEST_H

#include <stddef.h>

#include "pipeline.h"

int crm_ingest_path(crm_pipeline *p, const char *path, char *err, size_t errlen);

#endif
