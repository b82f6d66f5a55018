package api

import (
	"net/http"
	"time"

	"roster/internal/billing"
)

// BillingUser is one billable account of GET /api/v1/billing.
type BillingUser struct {
	ID            string     `json:"id"`
	Username      string     `json:"username"`
	Email         string     `json:"email"`
	FirstName     string     `json:"first_name"`
	LastName      string     `json:"last_name"`
	Status        string     `json:"status"`
	Deleted       bool       `json:"deleted"`
	ActivatedAt   time.Time  `json:"activated_at"`
	DeactivatedAt *time.Time `json:"deactivated_at"`
}

// Billing is the body of GET /api/v1/billing?month=YYYY-MM (default: this month).
type Billing struct {
	Month    string        `json:"month"`
	Billable int           `json:"billable"`
	Users    []BillingUser `json:"users"`
}

func (a *API) billing(w http.ResponseWriter, r *http.Request) {
	month, err := billing.ParseMonth(r.URL.Query().Get("month"), a.db.Now())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	rep, err := billing.MonthReport(r.Context(), a.db, month)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := Billing{Month: rep.Month, Billable: rep.Billable, Users: make([]BillingUser, 0, len(rep.Users))}
	for _, u := range rep.Users {
		out.Users = append(out.Users, BillingUser{ID: ID(u.ID), Username: u.Username, Email: u.Email, FirstName: u.FirstName,
			LastName: u.LastName, Status: u.Status, Deleted: u.Deleted, ActivatedAt: u.ActivatedAt, DeactivatedAt: u.DeactivatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}
