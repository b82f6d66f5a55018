package web

import (
	"context"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
)

// The header's menu: everything a person may do, at most two clicks from any page (open the
// menu, follow a link). What each person sees is decided here from authz, in one place, so the
// menu never offers a page that answers 403; the pages themselves still check through their
// services.

// MenuItem is one link of the menu.
type MenuItem struct {
	Key  string // the catalog key of its words
	URL  string
	ID   string // the element id, for tests and journeys
	Main bool   // also shown in the header's bar on wide screens
}

// MenuSection is a titled list of links.
type MenuSection struct {
	Key   string // the catalog key of its title
	Items []MenuItem
}

// Roles says what the logged-in person is, as far as the pages care; each is decided by authz.
type Roles struct {
	PlatformAdmin bool
	ManagesGroups bool // group or user administrator somewhere (authz.ManageGroup)
	InvitesPeople bool // may invite into some group (authz.InviteTo)
	CreatesUsers  bool // user administrator somewhere (authz.CreateAccountsIn)
	SeesPeople    bool // may see the administrative page of some accounts (authz.ViewUser)
	Teaches       bool // manages the participants of some course
}

// roles asks authz what u may do. Errors other than "not logged in" are logged and leave the
// role out: a menu with fewer links is better than no page.
func (w *Web) roles(ctx context.Context, u *account.User) Roles {
	if u == nil {
		return Roles{}
	}
	if u.IsAdmin {
		return Roles{PlatformAdmin: true, ManagesGroups: true, InvitesPeople: true, CreatesUsers: true, SeesPeople: true, Teaches: true}
	}
	var r Roles
	scope := func(op authz.GroupOp) bool {
		all, roots, err := authz.GroupScope(ctx, w.db, op)
		if err != nil {
			if !errs.Is(err, errs.Unauthorized) {
				w.log.Error("web: menu scope", "op", op, "err", err)
			}
			return false
		}
		return all || len(roots) > 0
	}
	r.ManagesGroups = scope(authz.ManageGroup)
	r.InvitesPeople = r.ManagesGroups // the same roles (group_admin, user_admin) in authz
	r.SeesPeople = r.ManagesGroups    // authz.ViewUser is ManageGroup's scope
	if r.ManagesGroups {
		r.CreatesUsers = scope(authz.CreateAccountsIn)
	}
	teaches, err := authz.TeachesSomeCourse(ctx, w.db, w.db.Now())
	if err != nil {
		w.log.Error("web: menu teaches", "err", err)
	}
	r.Teaches = teaches
	return r
}

// menu lists the sections of the header's menu for a person with roles r.
func menu(r Roles) []MenuSection {
	courses := "menu.courses"
	if r.PlatformAdmin {
		courses = "home.all_courses"
	}
	mine := MenuSection{Key: "menu.mine", Items: []MenuItem{
		{Key: "nav.home", URL: "/", ID: "menu-home"},
		{Key: courses, URL: "/courses", ID: "menu-courses", Main: true},
	}}
	if r.Teaches && !r.InvitesPeople {
		// A teacher's invitations: those they sent into their courses.
		mine.Items = append(mine.Items, MenuItem{Key: "menu.invitations", URL: "/invitations", ID: "menu-invitations"})
	}
	out := []MenuSection{mine}
	if r.ManagesGroups || r.InvitesPeople || r.CreatesUsers {
		people := MenuSection{Key: "menu.people"}
		if r.ManagesGroups {
			people.Items = append(people.Items, MenuItem{Key: "nav.groups", URL: "/groups", ID: "nav-groups", Main: true})
		}
		if r.SeesPeople {
			people.Items = append(people.Items, MenuItem{Key: "menu.users", URL: "/admin/users", ID: "menu-users", Main: true})
		}
		if r.InvitesPeople {
			people.Items = append(people.Items, MenuItem{Key: "menu.invite", URL: "/invitations/new", ID: "menu-invite"})
		}
		if r.CreatesUsers {
			people.Items = append(people.Items, MenuItem{Key: "menu.create", URL: "/external/new", ID: "menu-create"})
		}
		if r.InvitesPeople {
			people.Items = append(people.Items, MenuItem{Key: "menu.invitations", URL: "/invitations", ID: "menu-invitations"})
		}
		out = append(out, people)
	}
	if r.PlatformAdmin {
		out = append(out, MenuSection{Key: "home.admin", Items: []MenuItem{
			{Key: "nav.imports", URL: "/admin/imports", ID: "menu-imports"},
			{Key: "menu.sync", URL: "/admin/sync", ID: "menu-sync"},
			{Key: "menu.sso", URL: "/admin/sso", ID: "menu-sso"},
			{Key: "nav.mail", URL: "/admin/mail", ID: "menu-mail"},
			{Key: "nav.billing", URL: "/admin/billing", ID: "menu-billing"},
			{Key: "nav.audit", URL: "/admin/audit", ID: "menu-audit"},
			{Key: "menu.platforms", URL: "/admin/oidc-clients", ID: "menu-platforms"},
			{Key: "nav.profile_fields", URL: "/admin/profile-fields", ID: "menu-profile-fields"},
			{Key: "course_roles.title", URL: "/admin/course-roles", ID: "menu-course-roles"},
			{Key: "nav.settings", URL: "/admin/settings", ID: "nav-settings"},
		}})
	}
	return out
}
