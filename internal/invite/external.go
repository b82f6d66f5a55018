package invite

import (
	"context"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// ExternalRequest is what the direct creation of an account takes ("create an account").
type ExternalRequest struct {
	FirstName, LastName string
	// Email may be empty for a person without an address; Username is then required.
	Email, Username string
	Language        string
	DeleteAt        *time.Time
	CustomFields    map[string]string
	Groups          []Grant
	// Password, when set by the administrator, is the account's password (checked against
	// the policy). It is never emailed.
	Password string
	// SendCredentials emails the person their username and a BASE/account/setup/TOKEN link to
	// choose their password (ignored without an email address).
	SendCredentials bool
	// CourseID, when not 0, enrols the new account in that course in the same transaction (as
	// a student, through the course's invitation method; see SetCourseHooks). The caller must
	// manage the course's participants.
	CourseID int64
}

// Created is the result of CreateExternal.
type Created struct {
	User *account.User
	// SetupLink is a one-time BASE/account/setup/TOKEN link for the administrator to hand
	// over, given when the account has neither a password nor an email to send one to.
	SetupLink string
	// Invitations counts the pending invitations of the address applied to the new account.
	Invitations int
}

// CreateExternal creates an account at once, active and billable from now, as a member of the
// groups given, in one transaction with its email and audit events. The person gets an
// account-setup email (their username and a link to choose a password; never a password) when
// SendCredentials is set and they have an address. Pending invitations of the address are
// applied to the new account, so nobody ends up with a dangling invitation.
//
// Rights:
//   - a platform administrator: everything above;
//   - with groups: authz.CanCreateAccountsIn and authz.CanGrantRole for each grant (user
//     administrators of those groups), with every other field;
//   - without groups, someone who is not a platform administrator must manage the
//     participants of at least one course (authz.TeachesSomeCourse: a teacher) and gives only
//     first name, last name, email and language: no username, password, deletion date or
//     custom fields (Forbidden naming them), and the person always gets the account-setup
//     email (SendCredentials is forced, so no setup link is handed back). Required custom
//     fields are not demanded of such an account.
//
// With CourseID, the caller must also manage that course's participants (the course hook
// registered by SetCourseHooks checks it) and the account is enrolled in it in the same
// transaction (the enrol hook of SetCourseHooks).
//
// Errors: Unauthorized; Forbidden naming group and role, or the fields a teacher may not set;
// Invalid naming first_name, last_name, email, username, password, language, delete_at,
// custom_fields, groups[i]..., course_id; Conflict naming username (taken) or email (another
// account has it and the platform does not allow shared addresses: account.SettingSharedEmail).
func (s *Service) CreateExternal(ctx context.Context, in ExternalRequest) (*Created, error) {
	if _, err := authz.RequireUser(ctx); err != nil {
		return nil, err
	}
	in.FirstName, in.LastName = cleanName(in.FirstName), cleanName(in.LastName)
	in.Email, in.Username = strings.TrimSpace(in.Email), strings.ToLower(strings.TrimSpace(in.Username))
	grants, gerr := normalizeGrants(in.Groups)
	// teacher: no groups and not a platform administrator, the dashboard's "External users"
	// for the people who manage participants of a course.
	teacher := gerr == nil && len(grants) == 0 && authz.RequirePlatformAdmin(ctx) != nil
	if teacher {
		if err := s.checkTeacherCreate(ctx, &in); err != nil {
			return nil, err
		}
	}
	var f errs.Fields
	if in.FirstName == "" {
		f.AddCode("first_name", "required")
	}
	if in.LastName == "" {
		f.AddCode("last_name", "required")
	}
	switch {
	case in.Email != "":
		if code := checkAddress(in.Email); code != "" {
			var e Entry
			// errkeys: addr_empty addr_missing_at addr_too_long addr_two_at addr_nothing_before_at addr_no_domain addr_domain_no_dot addr_bad_domain addr_invalid
			e.reject(code)
			f = append(f, errs.FieldError{Field: "email", Code: e.Code, Message: e.Problem})
		}
	case teacher:
		f.AddCode("email", "required")
	case in.Username == "":
		f.AddCode("username", "username_required_no_email")
	}
	opts := normalizeOptions(&f, in.Language, in.DeleteAt, in.CustomFields, s.db.Now())
	if !teacher {
		if err := opts.checkCustomFields(ctx, s.db, &f); err != nil {
			return nil, err
		}
	}
	if gerr != nil {
		f = append(f, errs.As(gerr).Fields...)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if len(grants) > 0 {
		if _, err := checkGrants(ctx, s.db, forCreate, grants); err != nil {
			// Checked before hashing too, so a refused request costs nothing; checked again below.
			return nil, err
		}
	}
	if in.CourseID != 0 {
		if _, err := s.checkCourse(ctx, s.db, in.CourseID); err != nil {
			return nil, err
		}
		if s.enrolExisting == nil {
			return nil, errs.FieldCode("course_id", "courses_unavailable")
		}
	}
	username := in.Username
	if username == "" {
		username = strings.ToLower(in.Email)
	}
	var hash string
	if in.Password != "" {
		var err error
		if hash, err = s.accounts.HashPassword(ctx, in.Password, username, in.Email); err != nil {
			return nil, err
		}
	}
	out := &Created{}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := checkGrants(ctx, tx, forCreate, grants); err != nil {
			return err
		}
		u, err := s.accounts.CreateUser(ctx, tx, account.NewUser{Username: in.Username, Email: in.Email,
			FirstName: in.FirstName, LastName: in.LastName, Language: opts.Language, PasswordHash: hash,
			CustomFields: opts.CustomFields, DeleteAt: opts.DeleteAt})
		if err != nil {
			return err
		}
		out.User = u
		for _, g := range grants {
			if err := group.AddMemberTx(ctx, tx, g.GroupID, u.ID, g.Role, group.SourceManual); err != nil {
				return err
			}
		}
		if in.CourseID != 0 {
			if _, err := s.checkCourse(ctx, tx, in.CourseID); err != nil {
				return err
			}
			if err := s.enrolExisting(ctx, tx, in.CourseID, u.ID); err != nil {
				return err
			}
		}
		if out.Invitations, err = s.ApplyPendingFor(ctx, tx, u.ID, u.Email); err != nil {
			return err
		}
		switch {
		case in.SendCredentials && u.Email != "":
			if _, err := s.accounts.IssueAccountSetup(ctx, tx, u); err != nil {
				return err
			}
		case hash == "":
			if out.SetupLink, err = s.accounts.IssueSetupLink(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{Action: "external.create", TargetType: "user", TargetID: idStr(u.ID),
			Details: map[string]any{"username": u.Username, "groups": len(grants), "notified": in.SendCredentials && u.Email != "",
				"course_id": in.CourseID, "by_teacher": teacher}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkTeacherCreate is the rule for a creation without groups by someone who is not a
// platform administrator: they must manage the participants of some course (of in.CourseID
// when given, checked later by the course hook) and give only names, email and language. It
// forces SendCredentials: the person chooses their own password from the email.
func (s *Service) checkTeacherCreate(ctx context.Context, in *ExternalRequest) error {
	teaches, err := authz.TeachesSomeCourse(ctx, s.db, s.db.Now())
	if err != nil {
		return err
	}
	if !teaches {
		return errs.Coded(errs.Forbidden, "forbidden_create_accounts")
	}
	var refused errs.Fields
	refuse := func(field string, set bool) {
		if set {
			refused.AddCode(field, "admin_only_field")
		}
	}
	refuse("username", in.Username != "")
	refuse("password", in.Password != "")
	refuse("delete_at", in.DeleteAt != nil && !in.DeleteAt.IsZero())
	refuse("custom_fields", len(in.CustomFields) > 0)
	if len(refused) > 0 {
		e := errs.Coded(errs.Forbidden, "teacher_fields_only")
		e.Fields = refused
		return e
	}
	in.SendCredentials = true
	return nil
}
