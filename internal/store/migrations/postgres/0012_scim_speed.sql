-- SCIM list speed. Substring filters (co, ew) on the name columns cannot use a B-tree: with
-- the pg_trgm extension, trigram GIN indexes answer them (LIKE '%x%' and LIKE '%x'). Creating
-- the extension needs privileges the database owner may lack: when it is not installed and
-- cannot be, the migration succeeds without these indexes (a NOTICE says so) and such filters
-- read every row, as before. An administrator can install pg_trgm later and create the
-- indexes by hand (the statements below). title, a common equality filter (title eq "…"),
-- gets a B-tree index. The tables are unchanged.
CREATE INDEX scim_users_title ON scim_users (title);

DO $$
DECLARE
    trgm_schema TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        BEGIN
            -- In public when it exists, so that dropping an application schema never takes
            -- the extension (and the indexes of other schemas) with it.
            IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
                CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
            ELSE
                CREATE EXTENSION IF NOT EXISTS pg_trgm;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm is not available (%): SCIM substring filters will read every row', SQLERRM;
        END;
    END IF;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX scim_users_given_name_trgm ON scim_users USING gin (given_name %I.gin_trgm_ops)', trgm_schema);
        EXECUTE format('CREATE INDEX scim_users_family_name_trgm ON scim_users USING gin (family_name %I.gin_trgm_ops)', trgm_schema);
        EXECUTE format('CREATE INDEX scim_users_display_name_trgm ON scim_users USING gin (display_name %I.gin_trgm_ops)', trgm_schema);
    END IF;
END
$$;
