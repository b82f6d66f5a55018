-- One rule for free addresses, held by the database: where the site requires unique addresses
-- (accounts.allow_shared_email off, the default), no two live accounts have the same
-- normalised address. users.email_shared marks the accounts the index leaves out: all of
-- them while shared addresses are allowed, and, once they are not, the accounts that already
-- shared an address with an older one (turning the setting off leaves them as they are; the
-- oldest of each address stays in the index, so a new account cannot take it). The account
-- package sets the flag when the setting changes and when an account is created or changes
-- its address.
ALTER TABLE users ADD COLUMN email_shared BOOLEAN NOT NULL DEFAULT false;

UPDATE users SET email_shared = true
WHERE (SELECT lower(value) FROM settings WHERE key = 'accounts.allow_shared_email') IN ('1', 't', 'true')
   OR (deleted_at IS NULL AND email_norm <> '' AND EXISTS (SELECT 1 FROM users o
        WHERE o.email_norm = users.email_norm AND o.deleted_at IS NULL AND o.id < users.id));

CREATE UNIQUE INDEX users_email_unique ON users (email_norm) WHERE deleted_at IS NULL AND email_norm <> '' AND NOT email_shared;
