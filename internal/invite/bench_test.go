package invite

import (
	"fmt"
	"strings"
	"testing"

	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// BenchmarkInvite1000 is one Invite call with 1,000 pasted addresses ("Name <addr>" lines, as
// copied from a mail client) into two groups: 1,000 invitations, their grants, 1,000 queued
// emails and audit events, in one transaction. The target is under 1 s.
//
//	go test ./internal/invite -run '^$' -bench Invite1000 -benchtime 5x
func BenchmarkInvite1000(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, clock := storetest.OpenSQLite(b)
		benchInvite(b, db, clock)
	})
	b.Run("postgres", func(b *testing.B) {
		db, clock := storetest.OpenPostgres(b)
		benchInvite(b, db, clock)
	})
}

func benchInvite(b *testing.B, db *store.DB, clock *storetest.Clock) {
	r := newRig(b, db, clock)
	sci := r.group(0, "Science", group.Private)
	chem := r.group(sci, "Chemistry", group.Public)
	grants := []Grant{{chem, group.Learner}, {sci, group.Trainer}}
	n := 0
	b.ResetTimer()
	for b.Loop() {
		var sb strings.Builder
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&sb, "Person %d <person%d.%d@example.org>,\n", i, n, i)
		}
		n++
		res, err := r.s.Invite(r.admin, Request{Emails: sb.String(), Groups: grants})
		if err != nil {
			b.Fatal(err)
		}
		if len(res) != 1000 || res[999].Outcome != Invited {
			b.Fatalf("%d results, last %+v", len(res), res[len(res)-1])
		}
	}
}
