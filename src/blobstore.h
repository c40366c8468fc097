/*
 * NAME
 *	blobstore 3h - attachment bytes on disk, content-addressed
 * DESCRIPTION
 *	crm_blob_put() writes bytes to STORAGE/<workspace>/<h0h1>/<sha256>
 *	(write to a temporary name, then rename), so the same attachment is
 *	stored once per workspace and a crash never leaves a half file under
 *	the final name. An existing file is kept as is.
 *
 *	crm_blob_sync() makes everything written so far durable (syncfs(2)
 *	on the storage file system): callers run it once per batch, before
 *	the transaction whose rows point at the files commits, instead of
 *	paying two fsyncs per attachment.
 * DIAGNOSTICS
 *	Returns 0 and a g_malloc()ed path in *path, or -1 with err set.
 */
#ifndef CRM_BLOBSTORE_H
#define CRM_BLOBSTORE_H

#include <stddef.h>

int crm_blob_put(const char *storage_dir, const char *workspace_id,
                 const char *sha256_hex, const unsigned char *data, size_t len,
                 char **path, char *err, size_t errlen);

int crm_blob_sync(const char *storage_dir, char *err, size_t errlen);

#endif
