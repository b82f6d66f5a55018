package course

import (
	"net/url"
	"strconv"
	"strings"

	"roster/internal/errs"
)

// FilterFromQuery reads the participants filters of a query string: q, role, group (an id,
// or "none"), status, method (an id or a type), inactive_days, sort (a column, "-" before it
// for descending). Errors: Invalid naming the bad field.
func FilterFromQuery(q url.Values) (ParticipantFilter, error) {
	f := ParticipantFilter{Q: q.Get("q"), Role: q.Get("role"), Status: q.Get("status"), Method: q.Get("method")}
	f.Sort, f.Desc = strings.CutPrefix(q.Get("sort"), "-")
	switch g := q.Get("group"); g {
	case "":
	case "none":
		f.GroupID = NoGroup
	default:
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil || n <= 0 {
			return f, errs.FieldCode("group", "bad_course_group")
		}
		f.GroupID = n
	}
	if v := q.Get("inactive_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, errs.FieldCode("inactive_days", "whole_days")
		}
		f.InactiveDays = n
	}
	return f, f.Validate()
}
