// Command roster runs Roster: the web pages, the API and the background jobs (serve), and the
// operators' commands (migrate, user add, token create, import, sync, config, version). Flags, configuration and
// wiring live here; every rule lives in the internal packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the site's time zone loads on systems without a zone database
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	m.Close()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "roster:", m.ErrorText(err))
		}
		os.Exit(1)
	}
}

// Main is the program, so that tests run exactly what the binary runs.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Log            *slog.Logger
	// Lang is the language the command line speaks (see setLanguage).
	Lang string

	closers []func() error
	// ready is closed once serve listens; Addr is then its address.
	ready chan struct{}
	Addr  string
	// MetricsAddr is the address of the --metrics-addr listener, once serve listens.
	MetricsAddr string
}

// NewMain returns a Main wired to the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, ready: make(chan struct{})}
}

// Ready is closed when serve is listening.
func (m *Main) Ready() <-chan struct{} { return m.ready }

// Close releases what Run opened, last opened first.
func (m *Main) Close() error {
	var first error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	m.closers = nil
	return first
}

var errUsage = errors.New("usage")

const usage = `Roster: accounts, invitations, groups and enrolments for a learning platform.

Usage:
  roster serve            run the web pages, the API and the background jobs
  roster migrate          bring the database schema up to date
  roster user add --email E --first-name F --last-name L [--username U] [--admin] [--password-stdin]
  roster token create --name N [--user LOGIN] [--scim --group ID]
  roster import FILE [--format moodle|tsv|groups|enrolments|methods] [--user-field username|email|idnumber] [--apply]
                          preview (default) or apply a bulk file; prints the report
  roster sync [--source csv:PATH|oneroster:PATH] [--dry-run] [--action suspend|unenrol|keep] [--threshold PCT]
                          run the student-information-system sync now
  roster demo             fill an empty database with a demo platform to explore
  roster config           print the effective configuration, secrets masked
  roster version          print the version

Every command takes --db, --addr, --base-url, --smtp, --mail-from, --reset-ttl,
--trusted-proxies and --metrics-addr (or ROSTER_DB, ROSTER_ADDR, ...); the secret key comes
from ROSTER_SECRET_KEY or ROSTER_SECRET_KEY_FILE only; run "roster COMMAND -h" for its flags.
`

// Run runs the command named by args.
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Log == nil {
		m.Log = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "migrate":
		return m.migrate(ctx, args[1:])
	case "user":
		if len(args) > 1 && args[1] == "add" {
			return m.userAdd(ctx, args[2:])
		}
	case "token":
		if len(args) > 1 && args[1] == "create" {
			return m.tokenCreate(ctx, args[2:])
		}
	case "import":
		return m.importFile(ctx, args[1:])
	case "sync":
		return m.sync(ctx, args[1:])
	case "config":
		return m.printConfig(args[1:])
	case "demo":
		return m.demo(ctx, args[1:])
	case "version", "--version":
		fmt.Fprintln(m.Stdout, "roster", Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "roster: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
