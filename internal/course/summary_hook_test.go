package course

import "context"

// LiveParticipants is Service.Participants read from the enrolments, never from the summary:
// the reference the summary's list must equal.
func LiveParticipants(ctx context.Context, s *Service, courseID int64, f ParticipantFilter) (*Page, error) {
	seen, err := identitySight(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return listParticipants(ctx, s.db, courseID, f, s.now(), seen, false, 0)
}

// HoldRebuilds makes the background rebuilds of summaries call started and wait for release
// before they start, until the test ends.
func HoldRebuilds(t interface{ Cleanup(func()) }, started func(courseID int64), release <-chan struct{}) {
	rebuildStarts = func(id int64) {
		started(id)
		<-release
	}
	t.Cleanup(func() { rebuildStarts = nil })
}

// BriefParticipants is the list as a spreadsheet export reads it (every row, each person's
// enrolments and groups from the list's own statement): read from the summary when it is
// built, or, live, from the enrolments.
func BriefParticipants(ctx context.Context, s *Service, courseID int64, f ParticipantFilter, live bool) (*Page, error) {
	f.Limit, f.Offset, f.brief = All, 0, true
	if !live {
		return s.Participants(ctx, courseID, f)
	}
	return LiveParticipants(ctx, s, courseID, f)
}
