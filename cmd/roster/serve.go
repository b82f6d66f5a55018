package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"roster/internal/api"
	"roster/internal/bulk"
	"roster/internal/config"
	"roster/internal/course"
	"roster/internal/httpx"
	"roster/internal/jobs"
	"roster/internal/mail"
	"roster/internal/oidcp"
	"roster/internal/oneroster"
	"roster/internal/scim"
	"roster/internal/server"
	"roster/internal/store"
	"roster/internal/web"
)

// serve runs the HTTP server and the background jobs until ctx ends, then stops gracefully:
// in-flight requests finish, and so does the batch of emails being sent.
func (m *Main) serve(ctx context.Context, args []string) error {
	fs, cfg, err := m.flags("serve")
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	// Listen before the base URL is settled, so that --addr 127.0.0.1:0 (tests) gets its
	// real port into the links.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	cfg.Addr = ln.Addr().String()
	if err := cfg.Finish(); err != nil {
		return err
	}
	db, err := m.open(ctx, cfg)
	if err != nil {
		return err
	}
	svc := newServices(db, cfg, m.Log)
	// After the server has stopped (deferred calls run last): the rebuilds of participants
	// summaries it started in the background end with it.
	defer svc.courses.Close()
	metrics := httpx.NewMetrics()
	metrics.Gauge("roster_outbox_queued", func() float64 {
		var n float64
		db.QueryRowContext(context.Background(), `SELECT count(*) FROM outbox WHERE status = 'queued'`).Scan(&n)
		return n
	})
	deps, err := httpDeps(db, cfg, svc, m.Log, metrics)
	if err != nil {
		return err
	}
	handler := server.New(deps)

	if has, err := svc.accounts.HasUsers(ctx); err != nil {
		return err
	} else if !has {
		link, err := svc.accounts.FirstAdminLink(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, m.t("cli.first_admin", link))
	}

	// Imports whose process stopped are rolled back (bulk.Service.Recover), now and every
	// minute: they are not continued; the batch page says "interrupted".
	imports := bulk.NewService(db, svc.accounts, svc.groups, svc.courses)
	if ids, err := imports.Recover(ctx); err != nil {
		return err
	} else if len(ids) > 0 {
		m.Log.Warn("interrupted imports rolled back", "batches", ids)
	}

	tasks := jobs.New(db, m.Log, append(jobs.AccountTasks(svc.accounts, m.Log),
		append(jobs.InvitationTasks(svc.invites, m.Log), append(jobs.CourseTasks(svc.courses, m.Log),
			append(jobs.SISTasks(svc.sis, m.Log), jobs.ImportTasks(imports, m.Log)...)...)...)...)...)
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := tasks.Run(jobs); err != nil && !errors.Is(err, context.Canceled) {
			m.Log.Error("periodic tasks stopped", "err", err)
		}
	}()
	// Group sync and meta links follow their source within about a second.
	follower := course.NewFollower(db, m.Log)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := follower.Run(jobs); err != nil && !errors.Is(err, context.Canceled) {
			m.Log.Error("course sync follower stopped", "err", err)
		}
	}()
	if cfg.SMTP != "" {
		sender, err := mail.NewSender(cfg.SMTP, cfg.MailFrom)
		if err != nil {
			return err
		}
		worker := mail.NewWorker(db, sender, m.Log)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.Run(jobs); err != nil && !errors.Is(err, context.Canceled) {
				m.Log.Error("mail worker stopped", "err", err)
			}
		}()
	} else {
		m.Log.Info("no SMTP server configured: emails stay in the outbox, readable at /admin/mail")
	}

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	// --metrics-addr: /metrics alone, unauthenticated, on a listener of its own.
	var metricsSrv *http.Server
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			srv.Close()
			stopJobs()
			wg.Wait()
			return fmt.Errorf("listen on %s (metrics): %w", cfg.MetricsAddr, err)
		}
		m.MetricsAddr = mln.Addr().String()
		metricsSrv = &http.Server{Handler: server.MetricsHandler(metrics), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	m.Addr = cfg.Addr
	m.Log.Info("roster serving", "addr", cfg.Addr, "base_url", cfg.BaseURL, "db", db.Dialect.String())
	close(m.ready)

	select {
	case err := <-errc:
		if metricsSrv != nil {
			metricsSrv.Close()
		}
		srv.Close()
		stopJobs()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	m.Log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if metricsSrv != nil {
		metricsSrv.Shutdown(shutdown)
	}
	stopJobs()
	wg.Wait()
	return err
}

// httpDeps are the parts of the HTTP handler as `roster serve` builds them (the
// authorization matrix test builds the same).
func httpDeps(db *store.DB, cfg *config.Config, svc *services, log *slog.Logger, metrics *httpx.Metrics) (server.Deps, error) {
	proxies, err := cfg.Proxies()
	if err != nil {
		return server.Deps{}, err
	}
	pages, err := web.New(web.Config{BaseURL: cfg.BaseURL, SecureCookies: cfg.SecureCookies(), ResetTTL: cfg.ResetTTL,
		MailDelivered: cfg.SMTP != "", LanguageFixed: cfg.Language != "", TimeZoneFixed: cfg.TimeZone != ""}, web.Services{Log: log, DB: db, Accounts: svc.accounts, Groups: svc.groups,
		Invites: svc.invites, Courses: svc.courses, SSO: svc.sso, SIS: svc.sis, OIDC: svc.oidc})
	if err != nil {
		return server.Deps{}, err
	}
	return server.Deps{Log: log, DB: db, Accounts: svc.accounts, Web: pages,
		API: api.New(api.Config{SecureCookies: cfg.SecureCookies()}, api.Services{Log: log, DB: db,
			Accounts: svc.accounts, Groups: svc.groups, Invites: svc.invites, Courses: svc.courses, SIS: svc.sis, OIDC: svc.oidc}),
		SCIM: scim.New(scim.Services{DB: db, Accounts: svc.accounts, Groups: svc.groups},
			scim.Config{BaseURL: cfg.BaseURL, Log: log}),
		Metrics: metrics, Secure: cfg.SecureCookies(), TrustedProxies: proxies, MetricsElsewhere: cfg.MetricsAddr != "", OIDC: svc.oidc,
		OneRoster: oneRosterVerifier(svc.oidc)}, nil
}

// oneRosterVerifier checks the OneRoster service's bearer tokens with the OpenID provider's
// token endpoint's own (client credentials); without the provider every token is refused.
func oneRosterVerifier(p *oidcp.Provider) oneroster.Verifier {
	if p == nil {
		return nil
	}
	return func(ctx context.Context, bearer string) (oneroster.Grant, error) {
		g, err := p.VerifyAccessToken(ctx, bearer)
		return oneroster.Grant(g), err
	}
}
