-- 016_partitions_per_batch.sql: the months a batch needs, made in one
-- transaction.
--
-- The store made each month it had not seen with a call and a commit of
-- its own. The first batches of an import name most of its months at
-- once (a Maildir is in no date order): 25 calls and 25 WAL flushes,
-- and the second connection, needing the same months, waited on the
-- advisory lock once per month. crmgate_ensure_month_partitions() takes
-- every timestamp of a batch and makes the missing months in month
-- order, each by crmgate_ensure_month_partition() (which skips a month
-- that exists), all under the one advisory lock, held to the commit.
CREATE FUNCTION crmgate_ensure_month_partitions(p_at timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
   v_month timestamptz;
BEGIN
   FOR v_month IN SELECT DISTINCT date_trunc('month', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                    FROM unnest(p_at) AS t
                   WHERE t IS NOT NULL
                   ORDER BY 1 LOOP
      PERFORM crmgate_ensure_month_partition(v_month);
   END LOOP;
END $$;
