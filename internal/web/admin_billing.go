package web

import (
	"net/http"

	"roster/internal/billing"
)

// /admin/billing?month=YYYY-MM: the accounts billable in a month, for platform
// administrators (the billing package checks).

type billingData struct {
	Month  string
	Report *billing.Report
}

func (w *Web) adminBilling(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "billing.title")
	d := &billingData{Month: r.URL.Query().Get("month")}
	p.Data = d
	month, err := billing.ParseMonth(d.Month, w.db.Now())
	if err != nil {
		w.render(rw, r, showError(p, err), "admin_billing", p)
		return
	}
	d.Month = month.Format("2006-01")
	if d.Report, err = billing.MonthReport(r.Context(), w.db, month); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	w.render(rw, r, http.StatusOK, "admin_billing", p)
}
