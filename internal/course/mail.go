package course

import (
	"context"
	"strings"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/mail"
	"roster/internal/store"
)

// The emails of courses: the welcome email of methods that send one (manual and
// self-enrolment, when send_welcome is set), held in course_welcome_due while the course has
// not opened, and the message a teacher sends to selected participants.
//
// The welcome is per person and course: someone already enrolled in the course by another
// method gets none. Group sync and meta links send none (they enrol in the background, by the
// thousand, without a person asking).

// notEnrolled returns those of users who have no enrolment in the course yet.
func notEnrolled(ctx context.Context, q store.Querier, courseID int64, users []int64) ([]int64, error) {
	in := map[int64]bool{}
	for _, chunk := range chunks(users, 500) {
		rows, err := q.QueryContext(ctx, `SELECT DISTINCT user_id FROM course_enrolments WHERE course_id = $1 AND user_id IN (`+
			store.Placeholders(2, len(chunk))+`)`, append([]any{courseID}, int64Args(chunk)...)...)
		if err != nil {
			return nil, wrap(err, "course: enrolled")
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, wrap(err, "course: enrolled")
			}
			in[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "course: enrolled")
		}
	}
	var out []int64
	for _, u := range users {
		if !in[u] {
			out = append(out, u)
		}
	}
	return out, nil
}

// welcome queues the welcome email of the course to users (people just enrolled, new to the
// course) within tx, or holds it in course_welcome_due until the course opens.
func (s *Service) welcome(ctx context.Context, tx *store.Tx, courseID int64, role string, users []int64) error {
	if len(users) == 0 {
		return nil
	}
	open, _, err := CourseOpen(ctx, tx, courseID, tx.Now)
	if err != nil {
		return err
	}
	if !open {
		for _, u := range users {
			if _, err := tx.ExecContext(ctx, `INSERT INTO course_welcome_due (course_id, user_id, role, created_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (course_id, user_id) DO NOTHING`, courseID, u, role, tx.Now.Unix()); err != nil {
				return wrap(err, "course: hold welcome")
			}
		}
		return nil
	}
	c, err := getCourse(ctx, tx, courseID)
	if err != nil {
		return err
	}
	roleName := role
	if err := tx.QueryRowContext(ctx, `SELECT name FROM course_roles WHERE shortname = $1`, role).Scan(&roleName); err != nil && !store.IsNoRows(err) {
		return wrap(err, "course: role name")
	}
	for _, u := range users {
		if _, err := s.sendWelcome(ctx, tx, c, roleName, u); err != nil {
			return err
		}
	}
	return nil
}

// recipient is what an email needs of an account.
type recipient struct {
	ID                                     int64
	Email, Username, First, Last, Language string
}

func (r recipient) name() string { return strings.TrimSpace(r.First + " " + r.Last) }

// recipients loads the accounts of ids (deleted ones are left out).
func recipients(ctx context.Context, q store.Querier, ids []int64) ([]recipient, error) {
	var out []recipient
	for _, chunk := range chunks(ids, 500) {
		rows, err := q.QueryContext(ctx, `SELECT id, email, username, first_name, last_name, language FROM users
			WHERE deleted_at IS NULL AND id IN (`+store.Placeholders(1, len(chunk))+`) ORDER BY id`, int64Args(chunk)...)
		if err != nil {
			return nil, wrap(err, "course: recipients")
		}
		for rows.Next() {
			var r recipient
			if err := rows.Scan(&r.ID, &r.Email, &r.Username, &r.First, &r.Last, &r.Language); err != nil {
				rows.Close()
				return nil, wrap(err, "course: recipients")
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "course: recipients")
		}
	}
	return out, nil
}

// sendWelcome queues the welcome of course c to one person, and reports whether it did (not
// for an account without an address).
func (s *Service) sendWelcome(ctx context.Context, tx *store.Tx, c *Course, roleName string, userID int64) (bool, error) {
	rs, err := recipients(ctx, tx, []int64{userID})
	if err != nil || len(rs) == 0 || strings.TrimSpace(rs[0].Email) == "" {
		return false, err
	}
	r := rs[0]
	first := r.First
	if strings.TrimSpace(first) == "" {
		first = r.Username
	}
	err = mail.Enqueue(ctx, tx, mail.Message{Template: "course_welcome", To: r.Email, ToName: r.name(), UserID: r.ID,
		Language: r.Language, Data: map[string]any{"FirstName": first, "CourseName": c.Fullname,
			"Link": strings.TrimRight(s.cfg.BaseURL, "/") + "/courses/" + idStr(c.ID), "RoleName": roleName}})
	if errs.Is(err, errs.Invalid) {
		return false, nil // a stored address that is not one: nothing to send to
	}
	return err == nil, err
}

// SendDueWelcomes sends the welcome emails held for courses that have opened since, to the
// people still enrolled in them, and returns how many it queued. The course.welcome task runs
// it every minute; it is idempotent (each held row is deleted as it is sent).
func (s *Service) SendDueWelcomes(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more := 0, false
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT d.course_id, d.user_id, d.role,
				EXISTS (SELECT 1 FROM course_enrolments e WHERE e.course_id = d.course_id AND e.user_id = d.user_id AND e.status = 'active')
				FROM course_welcome_due d JOIN courses c ON c.id = d.course_id
				WHERE c.starts_at IS NULL OR c.starts_at <= $1 ORDER BY d.course_id, d.user_id LIMIT 200`, tx.Now.Unix())
			if err != nil {
				return wrap(err, "course: due welcomes")
			}
			type due struct {
				course, user int64
				role         string
				enrolled     bool
			}
			var list []due
			for rows.Next() {
				var d due
				if err := rows.Scan(&d.course, &d.user, &d.role, &d.enrolled); err != nil {
					rows.Close()
					return wrap(err, "course: due welcomes")
				}
				list = append(list, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return wrap(err, "course: due welcomes")
			}
			more = len(list) == 200
			courses := map[int64]*Course{}
			roles := map[string]string{}
			for _, d := range list {
				if d.enrolled {
					c := courses[d.course]
					if c == nil {
						if c, err = getCourse(ctx, tx, d.course); err != nil {
							return err
						}
						courses[d.course] = c
					}
					name, ok := roles[d.role]
					if !ok {
						name = d.role
						if err := tx.QueryRowContext(ctx, `SELECT name FROM course_roles WHERE shortname = $1`, d.role).Scan(&name); err != nil && !store.IsNoRows(err) {
							return wrap(err, "course: role name")
						}
						roles[d.role] = name
					}
					sent, err := s.sendWelcome(ctx, tx, c, name, d.user)
					if err != nil {
						return err
					}
					if sent {
						n++
					}
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM course_welcome_due WHERE course_id = $1 AND user_id = $2`, d.course, d.user); err != nil {
					return wrap(err, "course: due welcomes")
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if !more {
			return total, nil
		}
	}
}

// Limits on a message to participants.
const (
	MaxMessageSubjectLen = 200
	MaxMessageBodyLen    = 20000
)

// MessageResult says what SendMessage did.
type MessageResult struct {
	Queued    int // emails queued, one per person
	NoAddress int // selected people without an email address
}

// SendMessage emails a message (subject and plain-text body) to selected participants of the
// course, through the outbox, in one transaction. It needs authz.ManageParticipants. Errors:
// Forbidden, NotFound (course, or someone not a participant, field user_ids), Invalid (nobody
// selected, subject or body empty or too long).
func (s *Service) SendMessage(ctx context.Context, courseID int64, userIDs []int64, subject, body string) (*MessageResult, error) {
	subject = strings.TrimSpace(subject)
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	var f errs.Fields
	switch {
	case subject == "":
		f.AddCode("subject", "message_subject_required")
	case utf8.RuneCountInString(subject) > MaxMessageSubjectLen:
		f.AddCode("subject", "too_long", errs.P{"limit": MaxMessageSubjectLen})
	case strings.ContainsAny(subject, "\r\n"):
		f.AddCode("subject", "one_line")
	}
	switch {
	case body == "":
		f.AddCode("body", "message_body_required")
	case utf8.RuneCountInString(body) > MaxMessageBodyLen:
		f.AddCode("body", "too_long", errs.P{"limit": MaxMessageBodyLen})
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var res MessageResult
	err := s.bulk(ctx, courseID, userIDs, func(tx *store.Tx, _ []int64, _ string, args []any) error {
		c, err := getCourse(ctx, tx, courseID)
		if err != nil {
			return err
		}
		sender := "Roster"
		if p := authz.From(ctx); p != nil && p.UserID != 0 {
			if me, err := recipients(ctx, tx, []int64{p.UserID}); err != nil {
				return err
			} else if len(me) == 1 && me[0].name() != "" {
				sender = me[0].name()
			} else if len(me) == 1 {
				sender = me[0].Username
			}
		}
		ids := make([]int64, 0, len(args)-1)
		for _, a := range args[1:] {
			ids = append(ids, a.(int64))
		}
		rs, err := recipients(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if strings.TrimSpace(r.Email) == "" {
				res.NoAddress++
				continue
			}
			err := mail.Enqueue(ctx, tx, mail.Message{Template: "course_message", To: r.Email, ToName: r.name(), UserID: r.ID,
				Language: r.Language, Data: map[string]any{"SenderName": sender, "CourseName": c.Fullname, "Subject": subject, "Body": body}})
			if errs.Is(err, errs.Invalid) {
				res.NoAddress++
				continue
			}
			if err != nil {
				return err
			}
			res.Queued++
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.message", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"users": len(ids), "queued": res.Queued, "no_address": res.NoAddress, "subject": subject}})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}
