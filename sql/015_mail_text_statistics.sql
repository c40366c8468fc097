-- 015_mail_text_statistics.sql: no statistics on mail text.
--
-- ANALYZE of an interactions partition took a sample of whole mails,
-- decompressing and sorting their text, to build statistics that no
-- query uses: nothing selects interactions by the value of their
-- content or of their whole metadata (the expression indexes on
-- metadata keep statistics of their own). It was most of the cost of
-- every analyze of a month (measured: 31-59 ms of a partition's, 6 ms
-- without), which autovacuum repeats as each month grows, during an
-- import too.
ALTER TABLE interactions ALTER COLUMN content SET STATISTICS 0;
ALTER TABLE interactions ALTER COLUMN metadata SET STATISTICS 0;

-- The ALTER reaches existing partitions; a partition created later
-- starts from the default, so each new month copies the targets its
-- parent sets.
CREATE OR REPLACE FUNCTION crmgate_ensure_month_partition(p_at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
   v_month timestamp := date_trunc('month', p_at AT TIME ZONE 'UTC');
   v_name text := 'interactions_y' || to_char(v_month, 'YYYY') || 'm' || to_char(v_month, 'MM');
   v_col record;
BEGIN
   IF to_regclass(v_name) IS NOT NULL THEN
      RETURN v_name;
   END IF;
   PERFORM pg_advisory_xact_lock(7248190012);
   -- The writer that held the lock may have just created it; taking an
   -- advisory lock does not refresh this statement's view of the catalog,
   -- so "already exists" is the normal way to learn that.
   BEGIN
      EXECUTE format('CREATE TABLE %I PARTITION OF interactions FOR VALUES FROM (%L) TO (%L)',
                     v_name, v_month AT TIME ZONE 'UTC', (v_month + interval '1 month') AT TIME ZONE 'UTC');
      FOR v_col IN SELECT attname, attstattarget FROM pg_attribute
                    WHERE attrelid = 'interactions'::regclass AND attnum > 0
                      AND NOT attisdropped AND attstattarget >= 0 LOOP
         EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET STATISTICS %s',
                        v_name, v_col.attname, v_col.attstattarget);
      END LOOP;
   EXCEPTION WHEN duplicate_table THEN
      NULL;
   END;
   RETURN v_name;
END $$;
