-- Power over a person comes from where the person belongs, never from being added.
--
-- group_members.anchors says whether a direct membership places the person in the group's
-- part of the organisation for administration (authz.CanOnUser): true when the account was
-- created there, or the membership was given by someone who could already manage the
-- account (a platform administrator, a covering user administrator, an import, the sync,
-- SCIM, an invitation accepted by a new account). false when someone who could not manage the
-- account added the existing account (a group administrator pulling a person in, "add these
-- existing accounts instead"): the person gets the role and what follows from it (courses),
-- nobody gets power over the account. Rows written before this migration keep anchoring.
ALTER TABLE group_members ADD COLUMN anchors BOOLEAN NOT NULL DEFAULT true;

-- What an API token may do: 'api' (the JSON API, as its user or with platform rights) or
-- 'scim' (the SCIM endpoint under its group, nothing else).
ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
UPDATE api_tokens SET kind = 'scim' WHERE scim_group_id IS NOT NULL;
