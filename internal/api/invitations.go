package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/invite"
)

// Invitations (CONTRACT.md, "Invitations"): POST /api/v1/invitations, GET /api/v1/invitations,
// GET|PATCH|DELETE /api/v1/invitations/{id}, POST /api/v1/invitations/{id}/resend and /link,
// POST /api/v1/invitations/resend {group_id}, /cancel {emails}, /add-existing, and the public
// /accept.

// Invitation is the API's form of an invitation.
type Invitation struct {
	ID             string            `json:"id"`
	Email          string            `json:"email"`
	Name           string            `json:"name"`
	Status         string            `json:"status"`
	Groups         []InvitationGrant `json:"groups"`
	CourseID       *string           `json:"course_id"`
	Language       string            `json:"language"`
	DeleteAt       *time.Time        `json:"delete_at"`
	CustomFields   map[string]string `json:"custom_fields"`
	InvitedBy      *string           `json:"invited_by"`
	InviterName    string            `json:"inviter_name"`
	CreatedAt      time.Time         `json:"created_at"`
	SentCount      int               `json:"sent_count"`
	LastSentAt     *time.Time        `json:"last_sent_at"`
	LastDelivery   string            `json:"last_delivery"`
	ExpiresAt      *time.Time        `json:"expires_at"`
	DueAt          *time.Time        `json:"due_at"` // held until its course opens; null when sent
	AcceptedUserID *string           `json:"accepted_user_id"`
	AcceptedAt     *time.Time        `json:"accepted_at"`
	CancelledAt    *time.Time        `json:"cancelled_at"`
}

// InvitationGrant is a role in a group, as invitations and direct creation take and give it.
type InvitationGrant struct {
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name,omitempty"`
	Role      string `json:"role"`
}

// InvitationResult is one address's outcome.
type InvitationResult struct {
	Email        string  `json:"email"`
	Name         string  `json:"name,omitempty"`
	Outcome      string  `json:"outcome"`
	InvitationID *string `json:"invitation_id"`
	UserID       *string `json:"user_id"`
	Message      string  `json:"message,omitempty"`
	Code         string  `json:"code,omitempty"` // the message's stable code, e.g. addr_missing_at
}

func optID(id int64) *string {
	if id == 0 {
		return nil
	}
	s := ID(id)
	return &s
}

// InvitationOf converts an invitation to its API form.
func InvitationOf(inv *invite.Invitation) Invitation {
	out := Invitation{ID: ID(inv.ID), Email: inv.Email, Name: inv.Name, Status: inv.Status,
		Groups: make([]InvitationGrant, 0, len(inv.Groups)), CourseID: optID(inv.CourseID), Language: inv.Language,
		DeleteAt: inv.DeleteAt, CustomFields: inv.CustomFields, InvitedBy: optID(inv.InvitedBy), InviterName: inv.InviterName,
		CreatedAt: inv.CreatedAt, SentCount: inv.SentCount, LastSentAt: inv.LastSentAt, LastDelivery: inv.LastDelivery,
		ExpiresAt: inv.ExpiresAt, DueAt: inv.DueAt, AcceptedUserID: optID(inv.AcceptedUserID), AcceptedAt: inv.AcceptedAt,
		CancelledAt: inv.CancelledAt}
	if out.CustomFields == nil {
		out.CustomFields = map[string]string{}
	}
	for _, g := range inv.Groups {
		out.Groups = append(out.Groups, InvitationGrant{GroupID: ID(g.GroupID), GroupName: g.GroupName, Role: g.Role})
	}
	return out
}

func resultsOf(res []invite.Result) map[string][]InvitationResult {
	out := make([]InvitationResult, len(res))
	for i, x := range res {
		out[i] = InvitationResult{Email: x.Email, Name: x.Name, Outcome: x.Outcome, InvitationID: optID(x.InvitationID),
			UserID: optID(x.UserID), Message: x.Message, Code: x.Code}
	}
	return map[string][]InvitationResult{"results": out}
}

// flexID is an id in a request body: a string, as the API writes ids, or a number.
type flexID int64

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		// A type error, so that decode names the field.
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[int64]()}
	}
	*f = flexID(n)
	return nil
}

// grantIn is {group_id, role} in a request.
type grantIn struct {
	GroupID flexID `json:"group_id"`
	Role    string `json:"role"`
}

func grantsOf(in []grantIn) []invite.Grant {
	out := make([]invite.Grant, len(in))
	for i, g := range in {
		out[i] = invite.Grant{GroupID: int64(g.GroupID), Role: g.Role}
	}
	return out
}

// optDate reads an optional date field: absent, null or "" give nil; otherwise ParseDate.
func optDate(field string, raw json.RawMessage) (*time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, errs.FieldCode(field, "api_bad_time")
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	t, err := ParseDate(s)
	if err != nil {
		return nil, errs.FieldCode(field, "api_bad_time")
	}
	return &t, nil
}

func (a *API) createInvitations(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Emails       string            `json:"emails"`
		Groups       []grantIn         `json:"groups"`
		CourseID     flexID            `json:"course_id"`
		Language     string            `json:"language"`
		DeleteAt     json.RawMessage   `json:"delete_at"`
		CustomFields map[string]string `json:"custom_fields"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	deleteAt, err := optDate("delete_at", in.DeleteAt)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	res, err := a.Invites.Invite(r.Context(), invite.Request{Emails: in.Emails, Groups: grantsOf(in.Groups),
		CourseID: int64(in.CourseID), Language: in.Language, DeleteAt: deleteAt, CustomFields: in.CustomFields})
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resultsOf(res))
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := limit(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f := invite.Filter{Status: q.Get("status"), Q: q.Get("q"), Limit: n, Cursor: q.Get("cursor")}
	if v := q.Get("group_id"); v != "" {
		if f.GroupID, err = strconv.ParseInt(v, 10, 64); err != nil || f.GroupID <= 0 {
			a.problem(w, r, errs.FieldCode("group_id", "api_bad_group_id", errs.P{"value": v}))
			return
		}
	}
	if v := q.Get("course_id"); v != "" {
		if f.CourseID, err = strconv.ParseInt(v, 10, 64); err != nil || f.CourseID <= 0 {
			a.problem(w, r, errs.Field("course_id", "must be a course id, not %q", v))
			return
		}
	}
	switch v := q.Get("subgroups"); v {
	case "", "false", "0":
	case "true", "1":
		f.Subgroups = true
	default:
		a.problem(w, r, errs.FieldCode("subgroups", "api_not_boolean", errs.P{"value": v}))
		return
	}
	items, next, err := a.Invites.List(r.Context(), f)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[Invitation]{Items: make([]Invitation, 0, len(items)), NextCursor: next}
	for i := range items {
		out.Items = append(out.Items, InvitationOf(&items[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	inv, err := a.Invites.Get(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, InvitationOf(inv))
}

// patchInvitation changes the address of a pending invitation: the old one is cancelled and
// the new address invited; the answer is the new invitation.
func (a *API) patchInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in struct {
		Email *string `json:"email"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if in.Email == nil {
		a.problem(w, r, errs.FieldCode("email", "api_only_email"))
		return
	}
	res, err := a.Invites.ChangeAddress(r.Context(), id, *in.Email)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	inv, err := a.Invites.Get(r.Context(), res.InvitationID)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, InvitationOf(inv))
}

func (a *API) cancelInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Invites.Cancel(r.Context(), id); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Invites.Resend(r.Context(), id); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// resendGroupInvitations re-sends every pending invitation of a group: {group_id} → {sent}.
func (a *API) resendGroupInvitations(w http.ResponseWriter, r *http.Request) {
	var in struct {
		GroupID flexID `json:"group_id"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if in.GroupID <= 0 {
		a.problem(w, r, errs.FieldCode("group_id", "required"))
		return
	}
	n, err := a.Invites.ResendAll(r.Context(), int64(in.GroupID))
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"sent": n})
}

// invitationLink copies a fresh link of a pending invitation: {link}. The earlier link stops
// working.
func (a *API) invitationLink(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	link, err := a.Invites.FreshLink(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"link": link})
}

func (a *API) cancelInvitations(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Emails string `json:"emails"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	res, err := a.Invites.CancelMany(r.Context(), in.Emails)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resultsOf(res))
}

// addExisting puts accounts that already exist (the already_active outcomes) in the groups.
func (a *API) addExisting(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserIDs []flexID  `json:"user_ids"`
		Groups  []grantIn `json:"groups"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	ids := make([]int64, len(in.UserIDs))
	for i, id := range in.UserIDs {
		ids[i] = int64(id)
	}
	if err := a.Invites.AddExisting(r.Context(), ids, grantsOf(in.Groups)); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// acceptInvitation is public (rate limited): the token is the credential.
func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token     string `json:"token"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Password  string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	u, err := a.Invites.Accept(r.Context(), invite.Acceptance{Token: in.Token, FirstName: in.FirstName,
		LastName: in.LastName, Password: in.Password})
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, UserOf(u, a.db.Now()))
}
