-- The memberships that are not learner ones (trainers, group and user administrators), by
-- group: a public group's learners are also learners of its parent (propagation), so the people
-- of a sub-tree (the OneRoster users of a client of one group) are the members of its top group
-- and of its private groups, and the other members alone of its public groups below the top.
-- Those are few; this index reads them without walking a group's learners. Statements must say
-- "role <> 'learner'" for either database to use it.
CREATE INDEX group_members_not_learners ON group_members (group_id, user_id) WHERE role <> 'learner';
